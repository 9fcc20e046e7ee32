package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/archivd/archivd/internal/pgtest"
)

func reloadConfig(url, state, level, extra string) string {
	return fmt.Sprintf(`state_dir: %s
database:
  url: %s
log:
  format: json
  level: %s
http:
  listen: ""
network:
  listen_host: 127.0.0.1
  listen_port: 0
%s`, state, url, level, extra)
}

func limitsLine(up, down float64, alt bool) func(map[string]any) bool {
	return func(l map[string]any) bool {
		return l["upload_bytes_per_sec"] == up && l["download_bytes_per_sec"] == down && l["alt_speed"] == alt
	}
}

// A real archivd serve takes new limits, an alt_speed window, a log level
// and verify settings from 'archivd config reload' without a restart,
// names the setting that needs one, and keeps running on an invalid file.
func TestConfigReloadAppliesLimitsScheduleAndNamesRestartKeys(t *testing.T) {
	t.Parallel()
	bin := archivdBinary(t)
	url := pgtest.URL(t)
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	cfgPath := filepath.Join(dir, "archivd.yaml")
	block := filepath.Join(dir, "block.txt")
	writeFile(t, block, "lab:10.0.0.0-10.0.0.255\n")
	writeFile(t, cfgPath, reloadConfig(url, state, "info", `  upload_rate: 1MiB
  download_rate: 0
  interface: lo
  encryption: require
  max_conns_total: 100
  blocklist_file: `+block+"\n"))
	p := startServe(t, bin, cfgPath)
	p.waitLine(t, "network limits applied", limitsLine(1<<20, 0, false))
	p.waitLine(t, "network: listening on the interface's address", func(l map[string]any) bool { return l["listen_host"] == "127.0.0.1" })

	writeFile(t, cfgPath, reloadConfig(url, state, "debug", `  upload_rate: 2MiB
  download_rate: 3MiB
  max_conns_per_torrent: 7
  max_half_open: 9
  alt_speed_schedules: ["* * * * *"]
  alt_speed_duration: 2h
  alt_upload_rate: 512KiB
  alt_download_rate: 256KiB
  interface: lo
  encryption: require
  max_conns_total: 100
  blocklist_file: `+block+`
verify:
  rate: 5MiB
fleet:
  recovery_rate: 4MiB
  recovery_send_rate: 3MiB
`))
	code, out, errs := runCLI("--config", cfgPath, "config", "reload")
	if code != 0 || !strings.Contains(out, fmt.Sprintf("pid %d", p.cmd.Process.Pid)) {
		t.Fatalf("config reload: %d %q %q", code, out, errs)
	}
	// Inside a window that opens every minute and lasts 2h: the alt rates.
	l := p.waitLine(t, "network limits applied", limitsLine(512<<10, 256<<10, true))
	if l["max_conns_per_torrent"] != 7.0 || l["until"] == nil || l["recovery_bytes_per_sec"] != float64(4<<20) ||
		l["recovery_send_bytes_per_sec"] != float64(3<<20) {
		t.Errorf("limits line: %v", l)
	}
	p.waitLine(t, "verify: restarted with the reloaded settings", nil)
	p.waitLine(t, "reload: blocklist loaded", func(l map[string]any) bool { return l["ranges"] == 1.0 })
	restart := p.waitLine(t, "reload: these settings take effect at the next start (archivd keeps the running values)", nil)
	if keys := fmt.Sprint(restart["keys"]); keys != "[network.max_half_open]" {
		t.Errorf("restart keys %s, want [network.max_half_open]", keys)
	}
	applied := fmt.Sprint(p.waitLine(t, "reload: configuration reloaded", nil)["applied"])
	for _, k := range []string{"log.level", "network.upload_rate", "network.alt_speed_schedules", "verify.rate", "fleet.recovery_rate", "fleet.recovery_send_rate"} {
		if !strings.Contains(applied, k) {
			t.Errorf("applied %s lacks %s", applied, k)
		}
	}

	// An invalid file is refused by the CLI before the daemon is signalled.
	writeFile(t, cfgPath, reloadConfig(url, state, "info", "  upload_rate: -1\n"))
	code, _, errs = runCLI("--config", cfgPath, "config", "reload")
	if code != exitUsage || !strings.Contains(errs, "network.upload_rate") {
		t.Errorf("invalid config reload: %d %q", code, errs)
	}
	p.stop(t)
	writeFile(t, cfgPath, reloadConfig(url, state, "info", ""))
	code, _, errs = runCLI("--config", cfgPath, "config", "reload")
	if code != exitFailure || !strings.Contains(errs, "no archivd serve is running") {
		t.Errorf("reload with no daemon: %d %q", code, errs)
	}
}
