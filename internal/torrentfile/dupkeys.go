package torrentfile

import (
	"errors"
	"fmt"
	"strconv"
)

// maxNesting bounds how deep checkDupKeys recurses; real info dictionaries
// are at most a few levels deep (v2 file trees: one level per directory).
const maxNesting = 512

// checkDupKeys refuses a bencoded value in which any dictionary repeats a
// key. The library keeps the last value of a repeated key while other
// clients may keep the first, so the same infohash would name different
// data depending on who reads it.
func checkDupKeys(b []byte) error {
	s := scanner{b: b}
	if err := s.value(0); err != nil {
		return err
	}
	if s.i != len(b) {
		return errors.New("trailing bytes after the info dictionary")
	}
	return nil
}

type scanner struct {
	b []byte
	i int
}

var errTruncated = errors.New("truncated bencode in the info dictionary")

func (s *scanner) value(depth int) error {
	if depth > maxNesting {
		return fmt.Errorf("info dictionary nests deeper than %d levels", maxNesting)
	}
	if s.i >= len(s.b) {
		return errTruncated
	}
	switch c := s.b[s.i]; {
	case c == 'i':
		return s.skipTo('e')
	case c == 'l':
		s.i++
		for s.i < len(s.b) && s.b[s.i] != 'e' {
			if err := s.value(depth + 1); err != nil {
				return err
			}
		}
		return s.end()
	case c == 'd':
		return s.dict(depth)
	case c >= '0' && c <= '9':
		_, err := s.str()
		return err
	default:
		return fmt.Errorf("unexpected byte %q in the info dictionary", c)
	}
}

func (s *scanner) dict(depth int) error {
	s.i++
	seen := make(map[string]bool)
	for s.i < len(s.b) && s.b[s.i] != 'e' {
		k, err := s.str()
		if err != nil {
			return err
		}
		if seen[k] {
			return fmt.Errorf("info dictionary has duplicate key %q", k)
		}
		seen[k] = true
		if err := s.value(depth + 1); err != nil {
			return err
		}
	}
	return s.end()
}

func (s *scanner) str() (string, error) {
	start := s.i
	if err := s.skipTo(':'); err != nil {
		return "", err
	}
	n, err := strconv.Atoi(string(s.b[start : s.i-1]))
	if err != nil || n < 0 || n > len(s.b)-s.i {
		return "", errTruncated
	}
	s.i += n
	return string(s.b[s.i-n : s.i]), nil
}

// skipTo moves past the next occurrence of c.
func (s *scanner) skipTo(c byte) error {
	for ; s.i < len(s.b); s.i++ {
		if s.b[s.i] == c {
			s.i++
			return nil
		}
	}
	return errTruncated
}

func (s *scanner) end() error {
	if s.i >= len(s.b) {
		return errTruncated
	}
	s.i++
	return nil
}
