package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoadConfig feeds arbitrary bytes as the config file: Load must not
// panic, must return either a valid config or an ErrInvalid error on one line.
func FuzzLoadConfig(f *testing.F) {
	for _, name := range []string{"archivd.example.yaml", "archivd.production.yaml"} {
		if raw, err := os.ReadFile(filepath.Join("..", "..", "configs", name)); err == nil {
			f.Add(raw)
		}
	}
	f.Add([]byte("network:\n  listen_port: 70000\n"))
	f.Add([]byte("node:\n  zone: z1\n  tags: [ssd, \"rack=r4\"]\n  advertise_address: \"h:1\"\n"))
	f.Add([]byte("health:\n  low_space: 2TiB\n  full_space: 0.5%\n"))
	f.Add([]byte("health:\n  low_space: 10\n  full_space: 10%\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, raw []byte) {
		p := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(p, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(p, nil, nil)
		if err != nil {
			if !errors.Is(err, ErrInvalid) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("bad error %q", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("loaded config does not validate: %v", err)
		}
	})
}
