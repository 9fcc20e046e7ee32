package torrentfile

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const helperEnv = "ARCHIVD_TORRENTFILE_CREATE_AS_USER"

// TestCreateRefusesUnreadableFile makes a mode-000 file. Root reads it
// anyway, so when run as root the test re-runs this test binary as uid/gid
// 65534 (nobody), where the permission check is real, and Create runs there
// (TestCreateHelperProcess); as a normal user Create runs in-process.
func TestCreateRefusesUnreadableFile(t *testing.T) {
	t.Parallel()
	base, err := os.MkdirTemp("", "torrentfile-unreadable-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	dir := filepath.Join(base, "d")
	writeFile(t, filepath.Join(dir, "ok"), []byte("readable"))
	secret := filepath.Join(dir, "sub", "secret")
	writeFile(t, secret, []byte("unreadable"))
	if err := os.Chmod(secret, 0); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		_, err := Create(context.Background(), CreateOptions{Path: dir})
		wantErr(t, err, "open "+secret+": permission denied")
		return
	}
	out := runAsNobody(t, base, dir)
	if !strings.Contains(out, "open "+secret+": permission denied") {
		t.Fatalf("Create as nobody did not name the unreadable file:\n%s", out)
	}
}

func runAsNobody(t *testing.T, base, dir string) string {
	t.Helper()
	exe, err := os.ReadFile("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(base, "torrentfile.test")
	if err := os.WriteFile(bin, exe, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{base, dir, filepath.Join(dir, "sub")} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-test.run=^TestCreateHelperProcess$", "-test.v")
	cmd.Env = append(os.Environ(), helperEnv+"="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper process: %v\n%s", err, out)
	}
	return string(out)
}

// TestCreateHelperProcess is not a test by itself: it is the child process
// of TestCreateRefusesUnreadableFile.
func TestCreateHelperProcess(t *testing.T) {
	t.Parallel()
	dir := os.Getenv(helperEnv)
	if dir == "" {
		t.Skip("helper process for TestCreateRefusesUnreadableFile")
	}
	_, err := Create(context.Background(), CreateOptions{Path: dir})
	fmt.Printf("uid %d: Create error: %v\n", os.Geteuid(), err)
}
