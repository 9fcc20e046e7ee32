package main

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/archivd/archivd/internal/config"
	"github.com/archivd/archivd/internal/health"
)

// runBinary runs the archivd binary: exit code, stdout, stderr.
func runBinary(t *testing.T, bin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String(), errb.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), out.String(), errb.String()
	}
	t.Fatalf("%s %v: %v", bin, args, err)
	return 0, "", ""
}

// `archivd health` (the binary) judges the data dir, the test's real temp
// dir, by the health.low_space and health.full_space of its config: a
// size over the file system's is crossed whatever the host's free space,
// 0% and a few KiB are not; bad values are refused with the key named.
func TestHealthSpaceThresholdsOfTheConfigJudgeTheRealDataDir(t *testing.T) {
	t.Parallel()
	bin := archivdBinary(t)
	h := newHealthEnv(t, "")
	sp := health.Spaces([]string{h.data})
	if len(sp) != 1 || sp[0].Size == 0 {
		t.Fatalf("spaces of %s: %+v", h.data, sp)
	}
	// More than the file system holds: its free space is below it.
	over := fmt.Sprintf("%dKiB", sp[0].Size>>10+1)
	overV, err := config.ParseFreeSpace(over)
	mustOK(t, err)
	cases := []struct {
		name, section string
		code          int
		first, line   string // first line of stdout; a line of it
	}{
		{"size over the file system's", "low_space: " + over + "\n  full_space: 0",
			1, "HEALTH_WARN DATA_ROOT_LOW_SPACE",
			"[WARN] DATA_ROOT_LOW_SPACE: 1 file system with data roots has less than " + overV.String() + " free (health.low_space)"},
		{"0%", "low_space: 0%\n  full_space: 0", 0, "HEALTH_OK", ""},
		{"a few KiB", "low_space: 8KiB\n  full_space: 4KiB", 0, "HEALTH_OK", ""},
		{"full at a size over the file system's", "low_space: 0%\n  full_space: " + over,
			2, "HEALTH_ERR DISK_FULL",
			"[ERR] DISK_FULL: 1 file system with data roots has less than " + overV.String() + " free (health.full_space): downloads and repairs fail"},
	}
	if sp[0].Avail < sp[0].Size { // any file system holding a file system's own metadata
		cases = append(cases, struct {
			name, section string
			code          int
			first, line   string
		}{"100%", "low_space: 100%\n  full_space: 0", 1, "HEALTH_WARN DATA_ROOT_LOW_SPACE",
			"[WARN] DATA_ROOT_LOW_SPACE: 1 file system with data roots has less than 100% free (health.low_space)"})
	}
	for _, c := range cases {
		cfg := filepath.Join(t.TempDir(), "archivd.yaml")
		writeFile(t, cfg, fmt.Sprintf("database:\n  url: %q\ndata_dir: %s\nstate_dir: %s\nhealth:\n  %s\n", h.url, h.data, t.TempDir(), c.section))
		code, out, errs := runBinary(t, bin, "--config", cfg, "health")
		first, _, _ := strings.Cut(out, "\n")
		if code != c.code || first != c.first || !strings.Contains(out, c.line+"\n") {
			t.Errorf("%s: exit %d, want %d %q with %q:\n%s%s", c.name, code, c.code, c.first, c.line, out, errs)
			continue
		}
		if c.code != 0 && (!strings.Contains(out, "): ["+h.data+"]\n") || !strings.Contains(out, "$ df -h "+h.data+"\n")) {
			t.Errorf("%s: the check does not name %s or print its df:\n%s", c.name, h.data, out)
		}
	}

	// Bad values: exit 2, one line naming the key and the value, nothing evaluated.
	for _, c := range []struct{ section, want string }{
		{"low_space: 10", `health.low_space: "10" has no unit: write 10% or 10GiB (0 = off)`},
		{"low_space: plenty", `health.low_space: "plenty" is not a percentage or a byte size`},
		{"full_space: 120%", `health.full_space: "120%" is over 100%`},
		{"low_space: 1GiB\n  full_space: 2GiB", "config: health.full_space: 2GiB is not below health.low_space (1GiB)"},
	} {
		cfg := filepath.Join(t.TempDir(), "archivd.yaml")
		writeFile(t, cfg, fmt.Sprintf("database:\n  url: %q\ndata_dir: %s\nhealth:\n  %s\n", h.url, h.data, c.section))
		code, out, errs := runBinary(t, bin, "--config", cfg, "health")
		if code != exitUsage || out != "" || strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "archivd: config: ") ||
			!strings.Contains(errs, c.want) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit %d and %q", c.section, code, out, errs, exitUsage, c.want)
		}
	}
}
