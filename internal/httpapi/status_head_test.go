package httpapi_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/archivd/archivd/internal/httpapi"
	"github.com/archivd/archivd/internal/pgtest"
)

// TestStatusAndTorrentPagesShareOneHead: both pages start with the same
// document head and shared styles (the "head" partial), each with its own
// title; the torrent page's name is escaped in it.
func TestStatusAndTorrentPagesShareOneHead(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	sd := seed(t, db)
	addTorrent(t, db, "maps", 9, "a<b>&c.bin", 2)
	s := start(t, httpapi.Options{DB: db, Live: &fixedLive{}})
	base := "http://" + s.Addr()
	head := func(u, title string) string {
		t.Helper()
		code, body := get(t, nil, u, "")
		if code != 200 || !strings.HasPrefix(body, "<!DOCTYPE html>\n") {
			t.Fatalf("%s: %d, starts %.40q", u, code, body)
		}
		if !strings.Contains(body, "<title>"+title+"</title>") {
			t.Errorf("%s: no title %q", u, title)
		}
		i, j := strings.Index(body, "<style>"), strings.Index(body, "</style>")
		if i < 0 || j < i {
			t.Fatalf("%s: no style", u)
		}
		return body[i:j]
	}
	a := head(base+"/", "archivd status")
	b := head(base+"/torrents/"+sd.active.HexHash(), "planet-2026.osm.pbf · archivd")
	if a != b || !strings.Contains(a, ".pill.ok") {
		t.Errorf("the pages' shared styles differ:\n%s\n---\n%s", a, b)
	}
	head(base+"/torrents/"+url.PathEscape("a<b>&c.bin"), "a&lt;b&gt;&amp;c.bin · archivd")
}
