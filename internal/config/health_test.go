package config

import (
	"errors"
	"strings"
	"testing"
)

func TestParseFreeSpace(t *testing.T) {
	t.Parallel()
	good := []struct {
		in   string
		want FreeSpace
		out  string
	}{
		{"10%", FreeSpace{Percent: 10, IsPercent: true}, "10%"},
		{" 0.5 % ", FreeSpace{Percent: 0.5, IsPercent: true}, "0.5%"},
		{"0%", FreeSpace{IsPercent: true}, "0%"},
		{"100%", FreeSpace{Percent: 100, IsPercent: true}, "100%"},
		{"500GiB", FreeSpace{Bytes: 500 * GiB}, "500GiB"},
		{"2 TiB", FreeSpace{Bytes: 2 * TiB}, "2TiB"},
		{"1TB", FreeSpace{Bytes: 1e12}, "976562500KiB"},
		{"0", FreeSpace{}, "0"},
	}
	for _, g := range good {
		got, err := ParseFreeSpace(g.in)
		if err != nil || got != g.want || got.String() != g.out {
			t.Errorf("ParseFreeSpace(%q) = %+v %q, %v; want %+v %q", g.in, got, got.String(), err, g.want, g.out)
		}
		if back, err := ParseFreeSpace(got.String()); err != nil || back != got {
			t.Errorf("%q does not round-trip: %+v %v", got.String(), back, err)
		}
	}
	bad := map[string]string{
		"":      `"" is not a percentage or a byte size`,
		"%":     `"%" is not a percentage`,
		"-5%":   `"-5%" is not a percentage`,
		"NaN%":  `"NaN%" is not a percentage`,
		"1e2%":  `"1e2%" is not a percentage`,
		"101%":  `"101%" is over 100%`,
		"10":    `"10" has no unit: write 10% or 10GiB (0 = off)`,
		"-1GiB": `"-1GiB" is not a percentage or a byte size`,
		"10Mo":  `"10Mo" is not a percentage or a byte size`,
		"lots":  `"lots" is not a percentage or a byte size`,
	}
	for in, want := range bad {
		if got, err := ParseFreeSpace(in); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("ParseFreeSpace(%q) = %+v, %v; want %q", in, got, err, want)
		}
	}
}

func TestFreeSpaceBelow(t *testing.T) {
	t.Parallel()
	const size = 1000 * GiB
	cases := []struct {
		th    string
		avail ByteSize
		below bool
	}{
		{"10%", 99 * GiB, true},
		{"10%", 100 * GiB, false},
		{"1%", 9 * GiB, true},
		{"0%", 0, false},
		{"100%", size - 1, true},
		{"500GiB", 499 * GiB, true},
		{"500GiB", 500 * GiB, false},
		{"0", 0, false},
	}
	for _, c := range cases {
		th, err := ParseFreeSpace(c.th)
		if err != nil {
			t.Fatal(err)
		}
		if got := th.Below(uint64(c.avail), uint64(size)); got != c.below {
			t.Errorf("%s free of %s below %s: %v, want %v", c.avail, ByteSize(size), c.th, got, c.below)
		}
	}
	// A file system of unknown size is never below a share of it.
	if (FreeSpace{Percent: 10, IsPercent: true}).Below(0, 0) {
		t.Error("0 of 0 below 10%")
	}
}

func TestHealthKeysLoad(t *testing.T) {
	t.Parallel()
	c, err := Load(writeFile(t, "health:\n  low_space: 2TiB\n  full_space: 1%\n"), []string{"ARCHIVD_HEALTH_FULL_SPACE=50GiB"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Health.LowSpace != (FreeSpace{Bytes: 2 * TiB}) || c.Health.FullSpace != (FreeSpace{Bytes: 50 * GiB}) {
		t.Fatalf("health %+v", c.Health)
	}
	// config show renders them as they are written, and the rendering
	// loads back to the same configuration.
	out, err := c.YAML()
	if err != nil || !strings.Contains(string(out), "health:\n    low_space: 2TiB\n    full_space: 50GiB\n") {
		t.Fatalf("YAML: %v\n%s", err, out)
	}
	back, err := Load(writeFile(t, string(out)), nil, nil)
	if err != nil || back.Health != c.Health {
		t.Fatalf("YAML does not load back: %v %+v", err, back)
	}
	if m := c.Map()["health"].(map[string]any); m["low_space"] != "2TiB" || m["full_space"] != "50GiB" {
		t.Fatalf("Map: %v", m)
	}
	// Both off, and a warning turned off while DISK_FULL stays.
	for _, file := range []string{"health:\n  low_space: 0%\n  full_space: 0\n", "health:\n  low_space: 0\n  full_space: 1%\n",
		"health:\n  low_space: 5%\n  full_space: 10GiB\n"} {
		if _, err := Load(writeFile(t, file), nil, nil); err != nil {
			t.Errorf("%q: %v", file, err)
		}
	}
}

func TestHealthKeysErrorsNameKeyAndValue(t *testing.T) {
	t.Parallel()
	cases := []struct {
		file string
		env  []string
		want string
	}{
		{"health:\n  low_space: lots\n", nil, `config: FILE:2: health.low_space: "lots" is not a percentage or a byte size (like 10%, 500GiB; 0 = off)`},
		{"health:\n  full_space: 150%\n", nil, `config: FILE:2: health.full_space: "150%" is over 100%`},
		{"health:\n  low_space: 10\n", nil, `config: FILE:2: health.low_space: "10" has no unit: write 10% or 10GiB (0 = off)`},
		{"health:\n  low_space: [1%]\n", nil, "config: FILE:2: health.low_space: is a single value, not a list"},
		{"health:\n  low_space: {a: 1}\n", nil, "config: FILE:2: health.low_space: must be a plain value"},
		{"health:\n  low_space: 5%\n  full_space: 5%\n", nil, "config: health.full_space: 5% is not below health.low_space (5%)"},
		{"health:\n  low_space: 1%\n", nil, "config: health.full_space: 1% is not below health.low_space (1%)"},
		{"health:\n  low_space: 100GiB\n  full_space: 1TiB\n", nil, "config: health.full_space: 1TiB is not below health.low_space (100GiB)"},
		{"", []string{"ARCHIVD_HEALTH_LOW_SPACE=-3%"}, `config: environment: ARCHIVD_HEALTH_LOW_SPACE (health.low_space): "-3%" is not a percentage`},
		{"health: 10%\n", nil, "config: FILE:1: health is a section: give it keys, not a value"},
	}
	for _, tc := range cases {
		p := writeFile(t, tc.file)
		_, err := Load(p, tc.env, nil)
		want := strings.ReplaceAll(tc.want, "FILE", p)
		if err == nil || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "\n") || !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: error %v, want prefix %q", tc.file, err, want)
		}
	}
	// Set directly (not through a file): out of range values are refused too.
	c := Default()
	c.Health.LowSpace = FreeSpace{Percent: -1, IsPercent: true}
	if err := c.Validate(); err == nil || err.Error() != "config: health.low_space: -1% is not a percentage (0-100%) or a byte size" {
		t.Errorf("negative percent: %v", err)
	}
}

// FuzzParseFreeSpace: any accepted threshold renders to a string that
// parses back to it (config show output loads again), and no error spans
// lines.
func FuzzParseFreeSpace(f *testing.F) {
	for _, s := range []string{"10%", "0.5%", "0", "500GiB", "1TB", "10", "-1%", "1e3%", "NaN%", "100.0000001%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseFreeSpace(s)
		if err != nil {
			if strings.Contains(err.Error(), "\n") && !strings.Contains(s, "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if v.Percent < 0 || v.Percent > 100 || v.Bytes < 0 {
			t.Fatalf("%q parsed out of range: %+v", s, v)
		}
		back, err := ParseFreeSpace(v.String())
		if err != nil || back != v {
			t.Fatalf("%q -> %+v -> %q -> %+v %v", s, v, v.String(), back, err)
		}
	})
}
