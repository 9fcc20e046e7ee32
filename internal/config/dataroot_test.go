package config

import (
	"strings"
	"testing"
)

func TestDataRootsThatHoldOrSitInTheStateDirAreRefused(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"state_dir: /var/lib/archivd\ncollections:\n  - name: a\n    data_root: /\n":                         `collections[0].data_root: "/" is the filesystem root`,
		"state_dir: /var/lib/archivd\ncollections:\n  - name: a\n    data_root: /var/lib/archivd/postgres\n": `collections[0].data_root: "/var/lib/archivd/postgres" is inside the state directory`,
		"state_dir: /var/lib/archivd\ncollections:\n  - name: a\n    data_root: /var/lib/archivd\n":          `collections[0].data_root: "/var/lib/archivd" holds the state directory`,
		"state_dir: /var/lib/archivd\ncollections:\n  - name: a\n    data_root: /var/lib\n":                  `collections[0].data_root: "/var/lib" holds the state directory`,
		"state_dir: /var/lib/archivd\ndata_dir: /\n":                                                         `data_dir: "/" is the filesystem root`,
		"state_dir: /var/lib/archivd\ndata_dir: /var/lib/archivd/pg\n":                                       `data_dir: "/var/lib/archivd/pg" is inside the state directory`,
	}
	for body, want := range cases {
		_, err := loadYAML(t, body)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: got %v, want one line containing %q", body, err, want)
		}
	}
	ok := []string{
		"state_dir: /var/lib/archivd\ncollections:\n  - name: a\n    data_root: /srv/a\n",
		"state_dir: /var/lib/archivd\ncollections:\n  - name: a\n    data_root: /var/lib/archivd/data/a\n",
		"state_dir: /var/lib/archivd\ncollections:\n  - name: a\n    data_root: /var/lib/archivd-data\n",
		"state_dir: /var/lib/archivd\ndata_dir: /var/lib/archivd/data\n",
	}
	for _, body := range ok {
		if _, err := loadYAML(t, body); err != nil {
			t.Errorf("%q refused: %v", body, err)
		}
	}
}
