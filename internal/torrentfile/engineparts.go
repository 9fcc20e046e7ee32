package torrentfile

import (
	"bytes"
	"errors"

	"github.com/anacrolix/torrent/metainfo"
)

// EngineParts is what adding a stored torrent to the engine needs of its
// metainfo: the info dictionary as stored, the trackers as the engine
// takes them (metainfo.MetaInfo.UpvertedAnnounceList) and the web seeds.
type EngineParts struct {
	InfoBytes []byte // its own copy
	Announce  [][]string
	WebSeeds  []string
}

// SplitForEngine returns the EngineParts of raw metainfo as metainfo.Load
// would give them, without decoding the rest: the seeder's start of
// 100,000 torrents spent a second of CPU in metainfo.Load alone. Anything
// the quick scan does not expect (a repeated key, a value of another type)
// is left to metainfo.Load, so the result is the library's in every case.
func SplitForEngine(raw []byte) (EngineParts, error) {
	if p, ok := splitQuick(raw); ok {
		return p, nil
	}
	mi, err := metainfo.Load(bytes.NewReader(raw))
	if err != nil {
		return EngineParts{}, err
	}
	return EngineParts{InfoBytes: mi.InfoBytes, Announce: mi.UpvertedAnnounceList(), WebSeeds: mi.UrlList}, nil
}

var errUnexpected = errors.New("not what the quick scan expects")

// splitQuick scans the top-level dictionary; ok false sends the caller
// to metainfo.Load.
func splitQuick(raw []byte) (p EngineParts, ok bool) {
	s := scanner{b: raw}
	if len(raw) == 0 || raw[0] != 'd' {
		return p, false
	}
	s.i++
	var announce string
	var list [][]string
	seen := map[string]bool{}
	for s.i < len(s.b) && s.b[s.i] != 'e' {
		k, err := s.str()
		if err != nil || seen[k] {
			return p, false
		}
		seen[k] = true
		start := s.i
		switch k {
		case "info":
			if err := s.value(1); err != nil {
				return p, false
			}
			p.InfoBytes = bytes.Clone(s.b[start:s.i])
		case "announce":
			if announce, err = s.plainString(); err != nil {
				return p, false
			}
		case "announce-list":
			if list, err = s.stringLists(); err != nil {
				return p, false
			}
		case "url-list":
			if s.i < len(s.b) && s.b[s.i] == 'l' {
				l, err := s.stringList()
				if err != nil {
					return p, false
				}
				p.WebSeeds = l
			} else {
				v, err := s.plainString()
				if err != nil {
					return p, false
				}
				p.WebSeeds = []string{v}
			}
		default:
			if err := s.value(1); err != nil {
				return p, false
			}
		}
	}
	if s.end() != nil || s.i != len(s.b) {
		return p, false
	}
	mi := metainfo.MetaInfo{Announce: announce, AnnounceList: list}
	p.Announce = mi.UpvertedAnnounceList()
	return p, true
}

// plainString reads a byte string (errUnexpected for another type).
func (s *scanner) plainString() (string, error) {
	if s.i >= len(s.b) || s.b[s.i] < '0' || s.b[s.i] > '9' {
		return "", errUnexpected
	}
	return s.str()
}

// stringList reads a list of byte strings.
func (s *scanner) stringList() ([]string, error) {
	if s.i >= len(s.b) || s.b[s.i] != 'l' {
		return nil, errUnexpected
	}
	s.i++
	var out []string
	for s.i < len(s.b) && s.b[s.i] != 'e' {
		v, err := s.plainString()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, s.end()
}

// stringLists reads a list of lists of byte strings.
func (s *scanner) stringLists() ([][]string, error) {
	if s.i >= len(s.b) || s.b[s.i] != 'l' {
		return nil, errUnexpected
	}
	s.i++
	var out [][]string
	for s.i < len(s.b) && s.b[s.i] != 'e' {
		l, err := s.stringList()
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, s.end()
}
