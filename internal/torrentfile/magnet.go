package torrentfile

import (
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Magnet is a parsed magnet link (BEP 9): enough to add a torrent whose
// metainfo will be fetched from peers.
type Magnet struct {
	InfoHash [20]byte
	Name     string // dn, may be empty
	Trackers []string
	WebSeeds []string
	Raw      string // the link as given
}

// ParseMagnet parses a magnet URI with exactly one BitTorrent v1 infohash
// (xt=urn:btih: with 40 hex or 32 base32 characters).
func ParseMagnet(uri string) (Magnet, error) {
	u, err := url.Parse(strings.TrimSpace(uri))
	if err != nil {
		return Magnet{}, fmt.Errorf("magnet: not a URI: %s", oneLine(err.Error()))
	}
	if u.Scheme != "magnet" {
		return Magnet{}, fmt.Errorf("magnet: scheme is %q, want \"magnet\"", u.Scheme)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return Magnet{}, fmt.Errorf("magnet: bad query: %s", oneLine(err.Error()))
	}
	ih, err := magnetInfoHash(q["xt"])
	if err != nil {
		return Magnet{}, err
	}
	m := Magnet{InfoHash: ih, Name: q.Get("dn"), Raw: uri}
	if m.Trackers, err = magnetURLs("tr", q["tr"]); err != nil {
		return Magnet{}, err
	}
	if m.WebSeeds, err = magnetURLs("ws", q["ws"]); err != nil {
		return Magnet{}, err
	}
	return m, nil
}

// magnetInfoHash takes the btih infohash among the xt values. Other xt kinds
// (such as v2 btmh) are ignored; two different btih values are an error.
func magnetInfoHash(xts []string) ([20]byte, error) {
	var ih [20]byte
	found := false
	for _, xt := range xts {
		enc, ok := cutPrefixFold(xt, "urn:btih:")
		if !ok {
			continue
		}
		h, err := decodeBTIH(enc)
		if err != nil {
			return ih, err
		}
		if found && h != ih {
			return ih, errors.New("magnet: two different xt=urn:btih: infohashes")
		}
		ih, found = h, true
	}
	if !found {
		return ih, errors.New("magnet: no xt=urn:btih: infohash")
	}
	return ih, nil
}

func decodeBTIH(enc string) ([20]byte, error) {
	var ih [20]byte
	var n int
	var err error
	switch len(enc) {
	case 40:
		n, err = hex.Decode(ih[:], []byte(enc))
	case 32:
		n, err = base32.StdEncoding.Decode(ih[:], []byte(strings.ToUpper(enc)))
	default:
		return ih, fmt.Errorf("magnet: infohash %q has %d characters, want 40 hex or 32 base32", enc, len(enc))
	}
	if err != nil || n != 20 {
		return ih, fmt.Errorf("magnet: infohash %q is not valid hex or base32", enc)
	}
	return ih, nil
}

// magnetURLs checks tracker and web seed URLs: they must be absolute URLs,
// since the engine will contact them.
func magnetURLs(param string, vals []string) ([]string, error) {
	var out []string
	for _, v := range vals {
		u, err := url.Parse(v)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("magnet: %s %q is not an absolute URL", param, v)
		}
		out = append(out, v)
	}
	return out, nil
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return s, false
	}
	return s[len(prefix):], true
}
