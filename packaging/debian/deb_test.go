// Package debian_test builds the .deb and installs, checks, removes and
// purges it with dpkg on this machine (root only; skipped when archivd is
// installed for real).
package debian_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func sh(t *testing.T, name string, args ...string) string {
	t.Helper()
	return shEnv(t, nil, name, args...)
}

// shEnv is sh with extra environment variables ("K=V").
func shEnv(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// lockDpkgTest keeps two runs of this test from installing at once.
func lockDpkgTest(t *testing.T) {
	f, err := os.OpenFile("/run/lock/archivd-deb-test.lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
}

func TestDebInstallsChecksRemovesAndPurgesClean(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("dpkg -i needs root")
	}
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Skip("no dpkg-deb")
	}
	lockDpkgTest(t)
	if exec.Command("dpkg", "-s", "archivd").Run() == nil {
		t.Skip("archivd is installed on this machine: not touching it")
	}
	// Uncompressed: the payload is what ships, and xz alone would take
	// ~40 s of the test (the release build keeps xz).
	deb := strings.TrimSpace(shEnv(t, []string{"DEB_COMPRESSION=none"}, "./build-deb.sh", t.TempDir()))
	t.Cleanup(func() { _ = exec.Command("dpkg", "--purge", "archivd").Run() })
	sh(t, "dpkg", "-i", deb)
	files := strings.Fields(sh(t, "dpkg", "-L", "archivd"))

	if out := sh(t, "/usr/bin/archivd", "version"); !strings.Contains(out, "anacrolix/torrent v1.61.0") {
		t.Errorf("archivd version: %s", out)
	}
	// The service user reads its config (0640 root:archivd in 0750 /etc/archivd).
	if out := sh(t, "runuser", "-u", "archivd", "--", "/usr/bin/archivd", "config", "check", "/etc/archivd/archivd.yaml"); out != "/etc/archivd/archivd.yaml: ok\n" {
		t.Errorf("config check: %q", out)
	}
	for _, p := range []string{"/usr/lib/systemd/system/archivd.service", "/usr/lib/sysusers.d/archivd.conf",
		"/usr/lib/tmpfiles.d/archivd.conf", "/usr/share/man/man1/archivd.1.gz", "/usr/share/man/man1/archivd-serve.1.gz"} {
		if !exists(p) {
			t.Errorf("%s not installed", p)
		}
	}
	if unit, _ := os.ReadFile("/usr/lib/systemd/system/archivd.service"); !strings.Contains(string(unit), "ExecStart=/usr/bin/archivd --config /etc/archivd/archivd.yaml serve") {
		t.Errorf("unit ExecStart:\n%s", unit)
	}
	var st syscall.Stat_t
	if err := syscall.Stat("/var/lib/archivd", &st); err != nil || st.Mode&0o777 != 0o750 {
		t.Errorf("/var/lib/archivd: %v mode %o", err, st.Mode&0o777)
	}
	if uid := strings.TrimSpace(sh(t, "id", "-u", "archivd")); uid != "" && st.Uid != parseUint(uid) {
		t.Errorf("/var/lib/archivd owned by %d, archivd is %s", st.Uid, uid)
	}

	// remove keeps the conffile; purge leaves nothing.
	sh(t, "dpkg", "-r", "archivd")
	if exists("/usr/bin/archivd") || !exists("/etc/archivd/archivd.yaml") {
		t.Errorf("after remove: binary %v, conffile %v", exists("/usr/bin/archivd"), exists("/etc/archivd/archivd.yaml"))
	}
	sh(t, "dpkg", "--purge", "archivd")
	for _, p := range append(files, "/etc/archivd", "/var/lib/archivd") {
		if p != "/." && exists(p) && !isSharedDir(p) {
			t.Errorf("left after purge: %s", p)
		}
	}
}

// isSharedDir: directories of the file system the package only put files in.
func isSharedDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir() && !strings.Contains(filepath.Base(p), "archivd")
}

func parseUint(s string) uint32 {
	var n uint32
	for _, c := range s {
		n = n*10 + uint32(c-'0')
	}
	return n
}
