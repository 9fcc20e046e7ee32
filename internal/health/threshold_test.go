package health

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/archivd/archivd/internal/config"
	"github.com/archivd/archivd/internal/pgtest"
)

// The thresholds of health.low_space and health.full_space, as shares and
// as sizes, judged against a real file system half full.
func TestSpaceThresholdsAsSharesAndSizes(t *testing.T) {
	t.Parallel()
	root := mountTmpfs(t, "4m")
	fill(t, filepath.Join(root, "half"), 2<<20)
	sp := Spaces([]string{root})
	if len(sp) != 1 || sp[0].Size != 4<<20 || sp[0].Avail < 1900<<10 || sp[0].Avail > 2<<20 {
		t.Fatalf("tmpfs of 4MiB with 2MiB written: %+v", sp)
	}
	db := pgtest.New(t)
	ev := New(db, nil, Config{DataDir: root})
	ctx := ctxT(t)
	th := func(s string) *config.FreeSpace {
		v, err := config.ParseFreeSpace(s)
		if err != nil {
			t.Fatal(err)
		}
		return &v
	}
	cases := []struct {
		low, full string
		raised    string // "" = none
		summary   string
	}{
		{"10%", "1%", "", ""}, // the defaults: half free is fine
		{"3MiB", "1MiB", DataRootLowSpace, "less than 3MiB free (health.low_space)"},
		{"60%", "40%", DataRootLowSpace, "less than 60% free (health.low_space)"},
		{"40%", "1MiB", "", ""},
		{"1MiB", "0.5%", "", ""},
		{"0", "3MiB", DiskFull, "less than 3MiB free (health.full_space): downloads and repairs fail"},
		{"0%", "60%", DiskFull, "less than 60% free (health.full_space): downloads and repairs fail"},
		{"70%", "3MiB", DiskFull, "less than 3MiB free (health.full_space)"}, // full wins: not also low
		{"0%", "0", "", ""},
		{"100%", "0", DataRootLowSpace, "less than 100% free (health.low_space)"},
	}
	for _, c := range cases {
		ev.SetConfig(Config{DataDir: root, LowSpace: th(c.low), FullSpace: th(c.full)})
		rep := ev.Evaluate(ctx)
		if c.raised == "" {
			if rep.Status != OK {
				t.Errorf("low %s, full %s: %+v", c.low, c.full, rep.Checks)
			}
			continue
		}
		if len(rep.Checks) != 1 || rep.Checks[0].Code != c.raised || !strings.Contains(rep.Checks[0].Summary, c.summary) ||
			!strings.Contains(strings.Join(rep.Checks[0].Detail, ""), root) {
			t.Errorf("low %s, full %s: want %s %q, got %+v", c.low, c.full, c.raised, c.summary, rep.Checks)
		}
	}
}

// roomy sets thresholds the host's temp dir meets whatever its free
// space, for the tests of the other checks: DATA_ROOT_LOW_SPACE off,
// DISK_FULL under 1MiB (where nothing in these tests would work).
func roomy(c Config) Config {
	c.LowSpace = &config.FreeSpace{IsPercent: true}
	c.FullSpace = &config.FreeSpace{Bytes: config.MiB}
	return c
}
