package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func loadYAML(t *testing.T, body string) (*Config, error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "archivd.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return Load(p, nil, nil)
}

func TestCollectionsAreDeclaredInTheFile(t *testing.T) {
	t.Parallel()
	c, err := loadYAML(t, `collections:
  - name: maps
    description: Map tiles
    data_root: /srv/maps
    torrent_dir: /etc/archivd/maps
    web_seeds: [http://127.0.0.1:8080/maps/]
    verify: {interval: 168h}
prune_collections: true
`)
	if err != nil {
		t.Fatal(err)
	}
	want := CollectionConfig{Name: "maps", Description: "Map tiles", DataRoot: "/srv/maps", TorrentDir: "/etc/archivd/maps",
		WebSeeds: []string{"http://127.0.0.1:8080/maps/"}, Verify: map[string]string{"interval": "168h"}}
	if len(c.Collections) != 1 || c.Collections[0].Name != want.Name || c.Collections[0].TorrentDir != want.TorrentDir ||
		c.Collections[0].Verify["interval"] != "168h" || !c.PruneCollections {
		t.Fatalf("collections = %+v, prune = %v", c.Collections, c.PruneCollections)
	}
	// config show round-trips them.
	y, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	c2, err := loadYAML(t, string(y))
	if err != nil || len(c2.Collections) != 1 || c2.Collections[0].DataRoot != "/srv/maps" {
		t.Fatalf("round trip: %+v, %v\n%s", c2, err, y)
	}
}

func TestCollectionsErrorsNameTheEntry(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"collections:\n  - name: a\n    torrentdir: /x\n":           `field torrentdir not found`,
		"collections:\n  - name: 'bad name'\n":                      `collections[0].name: "bad name" is not a collection name`,
		"collections:\n  - name: a\n  - name: a\n":                  `collections[1].name: "a" is declared twice`,
		"collections:\n  - name: a\n    data_root: rel/dir\n":       `collections[0].data_root: "rel/dir" must be an absolute path`,
		"collections:\n  - name: a\n    verify: {schedules: x}\n":   `collections[0].verify: "schedules" cannot be overridden`,
		"collections:\n  - name: a\n    verify: {interval: soon}\n": `collections[0].verify.interval: "soon"`,
		"collections: maps\n":                                       `collections must be a list`,
	}
	for body, want := range cases {
		_, err := loadYAML(t, body)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: got %v, want one line containing %q", body, err, want)
		}
	}
}
