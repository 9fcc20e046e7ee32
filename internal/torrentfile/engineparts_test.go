package torrentfile

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"

	"github.com/anacrolix/torrent/metainfo"
)

// libraryParts is what the seeder took from metainfo.Load before
// SplitForEngine.
func libraryParts(raw []byte) (EngineParts, error) {
	mi, err := metainfo.Load(bytes.NewReader(raw))
	if err != nil {
		return EngineParts{}, err
	}
	return EngineParts{InfoBytes: mi.InfoBytes, Announce: mi.UpvertedAnnounceList(), WebSeeds: mi.UrlList}, nil
}

// sameParts compares two EngineParts, an empty list equal to none.
func sameParts(a, b EngineParts) bool {
	norm := func(p EngineParts) EngineParts {
		if len(p.Announce) == 0 {
			p.Announce = nil
		}
		for i, tier := range p.Announce {
			if len(tier) == 0 {
				p.Announce[i] = nil
			}
		}
		if len(p.WebSeeds) == 0 {
			p.WebSeeds = nil
		}
		if len(p.InfoBytes) == 0 {
			p.InfoBytes = nil
		}
		return p
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

func splitCases() map[string]string {
	info := "d6:lengthi100e4:name8:file.bin12:piece lengthi64e6:pieces40:" + piecesFor(2) + "e"
	str := func(s string) string { return strconv.Itoa(len(s)) + ":" + s }
	return map[string]string{
		"info only":                   "d4:info" + info + "e",
		"announce":                    "d8:announce" + str("http://t/a") + "4:info" + info + "e",
		"announce-list overrides":     "d8:announce" + str("http://t/a") + "13:announce-listll" + str("http://t/b") + str("http://t/c") + "el" + str("udp://t/d") + "ee4:info" + info + "e",
		"announce-list of empties":    "d8:announce" + str("http://t/a") + "13:announce-listll0:ee4:info" + info + "e",
		"announce-list without":       "d13:announce-listll" + str("http://t/b") + "ee4:info" + info + "e",
		"empty announce-list":         "d8:announce" + str("http://t/a") + "13:announce-listle4:info" + info + "e",
		"url-list string":             "d4:info" + info + "8:url-list" + str("http://w/") + "e",
		"url-list list":               "d4:info" + info + "8:url-list" + "l" + str("http://w/1") + str("http://w/2") + "ee",
		"other keys":                  "d7:comment" + str("hi") + "10:created by" + str("x") + "13:creation datei1700000000e4:info" + info + "5:nodesll" + str("h") + "i6881eee12:piece layersd" + str("k") + str("v") + "ee",
		"announce not a string":       "d8:announcei5e4:info" + info + "e",
		"repeated key":                "d8:announce" + str("http://t/a") + "8:announce" + str("http://t/b") + "4:info" + info + "e",
		"url-list of ints":            "d4:info" + info + "8:url-listli1eee",
		"truncated":                   "d4:info" + info,
		"trailing bytes":              "d4:info" + info + "ee",
		"not a dictionary":            "l4:infoe",
		"info not a dictionary":       "d4:info3:abce",
		"unsorted keys":               "d4:info" + info + "8:announce" + str("http://t/a") + "e",
		"announce-list tier a string": "d13:announce-listl" + str("http://t/b") + "e4:info" + info + "e",
	}
}

func TestSplitForEngineGivesWhatMetainfoLoadGives(t *testing.T) {
	cases := splitCases()
	seeds, _ := filepath.Glob("testdata/fuzz/FuzzParse/*")
	for _, p := range seeds {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := fuzzSeedBytes(raw); ok {
			cases["seed "+filepath.Base(p)] = string(v)
		}
	}
	quick := 0
	for name, raw := range cases {
		want, werr := libraryParts([]byte(raw))
		got, gerr := SplitForEngine([]byte(raw))
		if (werr == nil) != (gerr == nil) {
			t.Errorf("%s: error %v, metainfo.Load's %v", name, gerr, werr)
			continue
		}
		if werr == nil && !sameParts(got, want) {
			t.Errorf("%s: got %+v, metainfo.Load gives %+v", name, got, want)
		}
		if _, ok := splitQuick([]byte(raw)); ok {
			quick++
		}
	}
	if quick < 8 {
		t.Errorf("the quick scan handled %d of %d inputs: it should handle every plain torrent", quick, len(cases))
	}
}

func TestSplitForEngineCopiesTheInfo(t *testing.T) {
	raw := []byte(splitCases()["announce"])
	p, err := SplitForEngine(raw)
	if err != nil {
		t.Fatal(err)
	}
	clear(raw)
	if len(p.InfoBytes) == 0 || p.InfoBytes[0] != 'd' {
		t.Fatalf("info bytes changed with the metainfo they came from: %q", p.InfoBytes)
	}
}

// FuzzSplitForEngine: whenever metainfo.Load reads an input,
// SplitForEngine gives the same parts; it never panics.
func FuzzSplitForEngine(f *testing.F) {
	for _, raw := range splitCases() {
		f.Add([]byte(raw))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, gerr := SplitForEngine(raw)
		want, werr := libraryParts(raw)
		if werr != nil {
			return
		}
		if gerr != nil || !sameParts(got, want) {
			t.Fatalf("got %+v (%v), metainfo.Load gives %+v", got, gerr, want)
		}
	})
}

// fuzzSeedBytes reads a Go fuzz corpus file holding one []byte value.
func fuzzSeedBytes(file []byte) ([]byte, bool) {
	lines := bytes.SplitN(file, []byte("\n"), 3)
	if len(lines) < 2 || !bytes.HasPrefix(lines[1], []byte("[]byte(")) {
		return nil, false
	}
	q := bytes.TrimSuffix(bytes.TrimPrefix(bytes.TrimSpace(lines[1]), []byte("[]byte(")), []byte(")"))
	s, err := strconv.Unquote(string(q))
	if err != nil {
		return nil, false
	}
	return []byte(s), true
}
