package torrentfile

import (
	"os"
	"strings"
	"testing"
)

func TestParseRejectsWithOneLineErrorNamingTheProblem(t *testing.T) {
	t.Parallel()
	valid := encodeTorrentDict(t, v1Info())
	with := func(k string, v any) []byte {
		info := v1Info()
		if v == nil {
			delete(info, k)
		} else {
			info[k] = v
		}
		return encodeTorrentDict(t, info)
	}
	multi := func(files ...dict) []byte { return encodeTorrentDict(t, multiInfo(files...)) }
	cases := []struct {
		name, want string
		raw        []byte
	}{
		{"empty input", "empty input", nil},
		{"truncated bencode", "malformed bencode", valid[:len(valid)/2]},
		{"not bencode", "malformed bencode", []byte("hello world")},
		{"trailing garbage", "malformed bencode", append(append([]byte{}, valid...), 'x')},
		{"no info", "no info dictionary", []byte("d8:announce3:fooe")},
		{"info not a dict", "info is not a dictionary", []byte("d4:infoi3ee")},
		{"no name", "info has no name", with("name", nil)},
		{"name dot", `name "." has a "." component`, with("name", ".")},
		{"name dotdot", `name ".." leaves the torrent directory`, with("name", "..")},
		{"name with slash", `name "a/b" has '/' inside a component`, with("name", "a/b")},
		{"name absolute", `name "/etc" is absolute`, with("name", "/etc")},
		{"name empty", `name "" has an empty component`, with("name", "")},
		{"name.utf-8 dotdot", `name.utf-8 ".." leaves the torrent directory`, with("name.utf-8", "..")},
		{"no piece length", "info has no piece length", with("piece length", nil)},
		{"zero piece length", "piece length 0 is not positive", with("piece length", 0)},
		{"negative piece length", "piece length -64 is not positive", with("piece length", -64)},
		{"huge piece length", "exceeds the 512 MiB limit", with("piece length", 1<<40)},
		{"no pieces", "info has no pieces", with("pieces", nil)},
		{"pieces not multiple of 20", "pieces length 41 is not a multiple of 20", with("pieces", piecesFor(2)+"x")},
		{"too few pieces", "pieces has 1 hashes but total length 100 with piece length 64 needs 2", with("pieces", piecesFor(1))},
		{"too many pieces", "pieces has 3 hashes", with("pieces", piecesFor(3))},
		{"negative length", "length -100 is negative", with("length", -100)},
		{"neither length nor files", "info has neither length nor files", with("length", nil)},
		{"both length and files", "info has both length and files", with("files", []any{file(1, "a")})},
		{"empty files list", "files list is empty", encodeTorrentDict(t, dict{"name": "d", "piece length": 64, "pieces": "", "files": []any{}})},
		{"negative file length", `file "a" has negative length -1`, multi(file(-1, "a"), file(65, "b"))},
		{"dotdot component", `file path "../x" leaves the torrent directory`, multi(file(1, "..", "x"))},
		{"dotdot inside", `file path "a/../../x" leaves the torrent directory`, multi(file(1, "a", "..", "..", "x"))},
		{"dot component", `file path "a/./b" has a "." component`, multi(file(1, "a", ".", "b"))},
		{"empty component", `file path "a//b" has an empty component`, multi(file(1, "a", "", "b"))},
		{"absolute leading empty", `file path "/etc/passwd" is absolute`, multi(file(1, "", "etc", "passwd"))},
		{"absolute component", `file path "/etc/passwd" is absolute`, multi(file(1, "/etc/passwd"))},
		{"slash in component", `file path "a/b" has '/' inside a component`, multi(file(1, "a/b"))},
		{"NUL in component", "has a NUL byte", multi(file(1, "a\x00b"))},
		{"empty path", "a file has an empty path", multi(file(1))},
		{"path.utf-8 unsafe", `path.utf-8: file path "../x" leaves the torrent directory`, encodeTorrentDict(t, multiInfo(dict{"length": 1, "path": []any{"x"}, "path.utf-8": []any{"..", "x"}}))},
		{"duplicate files", `file path "a/b" appears twice`, multi(file(1, "a", "b"), file(1, "a", "b"))},
		{"file is a dir of another", `file path "a" is also the directory of file "a/b"`, multi(file(1, "a"), file(1, "a", "b"))},
		{"dir of another then file", `file path "a" is also the directory of file "a/b/c"`, multi(file(1, "a", "b", "c"), file(1, "a"))},
		{"all empty", "torrent has no data (total length 0)", encodeTorrentDict(t, dict{"name": "d", "piece length": 64, "pieces": "", "files": []any{file(0, "a")}})},
		{"duplicate info key", `info dictionary has duplicate key "name"`, []byte("d4:infod6:lengthi100e4:name1:a4:name1:b12:piece lengthi64e6:pieces40:" + piecesFor(2) + "ee")},
		{"duplicate key in a file entry", `info dictionary has duplicate key "length"`, []byte("d4:infod5:filesld6:lengthi1e6:lengthi2e4:pathl1:aeee4:name1:d12:piece lengthi64e6:pieces20:" + piecesFor(1) + "ee")},
		{"meta version 3", "meta version 3 is not supported", with("meta version", 3)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.raw)
			if err == nil {
				t.Fatalf("Parse accepted it")
			}
			msg := err.Error()
			if !strings.Contains(msg, c.want) {
				t.Fatalf("error %q does not contain %q", msg, c.want)
			}
			if !strings.HasPrefix(msg, "torrent file: ") || strings.ContainsAny(msg, "\r\n") {
				t.Fatalf("error %q is not one line starting with \"torrent file: \"", msg)
			}
		})
	}
}

func TestParseAcceptsValidHandBuiltTorrents(t *testing.T) {
	t.Parallel()
	tor, err := Parse(encodeTorrentDict(t, multiInfo(file(10, "a", "x"), file(0, "a", "y"), file(100, "b"))))
	if err != nil {
		t.Fatal(err)
	}
	want := []File{{0, "a/x", 10, 0}, {1, "a/y", 0, 10}, {2, "b", 100, 10}}
	if len(tor.Files) != len(want) {
		t.Fatalf("files %+v", tor.Files)
	}
	for i := range want {
		if tor.Files[i] != want[i] {
			t.Errorf("file %d = %+v, want %+v", i, tor.Files[i], want[i])
		}
	}
	if tor.TotalLength != 110 || tor.PieceCount != 2 || tor.PieceLength != 64 || tor.Name != "dir" {
		t.Errorf("got total %d pieces %d piece length %d name %q", tor.TotalLength, tor.PieceCount, tor.PieceLength, tor.Name)
	}
	if tor.InfoHash != sha1Of(tor.MetaInfo.InfoBytes) || tor.InfoHashV2 != nil {
		t.Errorf("infohash %x / v2 %x wrong", tor.InfoHash, tor.InfoHashV2)
	}
	if len(tor.Trackers) != 1 || tor.Trackers[0] != "http://127.0.0.1:1/announce" {
		t.Errorf("trackers %v", tor.Trackers)
	}
	if got := tor.DataDirFor("/srv"); got != "/srv/dir" {
		t.Errorf("DataDirFor = %q", got)
	}
}

func TestParseSingleFileDataDirIsParent(t *testing.T) {
	t.Parallel()
	tor, err := Parse(encodeTorrentDict(t, v1Info()))
	if err != nil {
		t.Fatal(err)
	}
	if len(tor.Files) != 1 || tor.Files[0] != (File{0, "file.bin", 100, 0}) {
		t.Fatalf("files %+v", tor.Files)
	}
	if got := tor.DataDirFor("/srv"); got != "/srv" {
		t.Errorf("DataDirFor = %q, want /srv", got)
	}
}

func TestLoadErrorNamesThePath(t *testing.T) {
	t.Parallel()
	p := t.TempDir() + "/bad.torrent"
	writeFile(t, p, []byte("d4:infoi3ee"))
	_, err := Load(p)
	if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "info is not a dictionary") {
		t.Fatalf("Load error %v does not name %s and the problem", err, p)
	}
	big := p + ".big"
	writeFile(t, big, nil)
	if err := os.Truncate(big, maxTorrentFile+1); err != nil {
		t.Fatal(err)
	}
	_, err = Load(big)
	if err == nil || !strings.Contains(err.Error(), big) || !strings.Contains(err.Error(), "larger than 256 MiB") {
		t.Fatalf("Load of a huge file: %v", err)
	}
	_, err = Load(p + ".missing")
	if err == nil || !strings.Contains(err.Error(), p+".missing") {
		t.Fatalf("Load error %v does not name the missing path", err)
	}
}
