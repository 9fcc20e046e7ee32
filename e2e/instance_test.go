package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/pgserver"
	"github.com/archivd/archivd/internal/testutil"
)

// e2eParallel tests run at a time by default: on 2 cores the package took
// 438 s at 2 and 310 s at 4 (go test -race ./e2e, nothing else running).
const e2eParallel = 4

// bin is the archivd binary built once for the package (TestMain).
var bin string

// Every e2e test calls t.Parallel: they wait on processes (peers, PostgreSQL
// outages, heartbeat leases) far more than they compute (the package used
// about a quarter of 2 cores at 2 at a time), so go test runs
// e2eParallel of them at a time unless -parallel is given. Each test has
// its own directories, ports, clusters and tmpfs mounts.
func TestMain(m *testing.M) {
	flag.Parse()
	parallelSet := false
	flag.Visit(func(f *flag.Flag) { parallelSet = parallelSet || f.Name == "test.parallel" })
	if !parallelSet {
		if err := flag.Set("test.parallel", strconv.Itoa(e2eParallel)); err != nil {
			panic(err)
		}
	}
	inPrivateMounts()
	dir, err := os.MkdirTemp("", "archivd-e2e-bin-")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "archivd")
	out, err := exec.Command("go", "build", "-trimpath", "-o", bin, "../cmd/archivd").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build archivd: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// inPrivateMounts runs the test binary again, as root, in a mount
// namespace of its own: the file systems the tests mount (mountTmpfs) are
// then seen by this run only and vanish with it, however it ends. Without
// root or unshare(1) the tests run where they are.
func inPrivateMounts() {
	const env = "E2E_PRIVATE_MOUNTS" // not ARCHIVD_*: the nodes inherit the environment
	if os.Geteuid() != 0 || os.Getenv(env) != "" {
		return
	}
	unshare, err := exec.LookPath("unshare")
	self, err2 := os.Executable()
	if err != nil || err2 != nil {
		return
	}
	args := append([]string{"unshare", "--mount", "--propagation", "private", "--", self}, os.Args[1:]...)
	err = syscall.Exec(unshare, args, append(os.Environ(), env+"=1"))
	fmt.Fprintf(os.Stderr, "e2e: run in a private mount namespace: %v (running in this one)\n", err)
}

// instance is one archivd node: its own state dir, embedded PostgreSQL,
// BitTorrent port and config file.
type instance struct {
	t      testing.TB
	name   string
	dir    string // state dir (0755: PostgreSQL runs as postgres)
	config string
	serve  *exec.Cmd
	done   chan error
	log    *syncBuffer
	http   int // port of /metrics, /healthz, /readyz
	port   int // BitTorrent listen port
	// env is added to the environment of every archivd this instance runs;
	// serveEnv to that of serve only (NOTIFY_SOCKET, WATCHDOG_USEC).
	env      []string
	serveEnv []string
}

// syncBuffer is a bytes.Buffer the daemon's output goroutine writes while
// the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newInstance(t testing.TB, name, tracker string, extra string) *instance {
	t.Helper()
	return newInstanceOpts(t, name, instanceOpts{tracker: tracker, extra: extra})
}

// instanceOpts are the settings newInstanceOpts varies; the zero value is
// an embedded catalog, listening on 127.0.0.1, announcing to no tracker.
type instanceOpts struct {
	tracker string // announce URL added to every torrent; "" = none
	dbURL   string // an external catalog; "" = the embedded PostgreSQL
	host    string // network.listen_host; "" = 127.0.0.1
	network string // more network keys, "key: value" lines
	extra   string // more top-level sections
	// health: the health section's keys, "key: value" lines; "" =
	// thresholds the host's temp dir meets whatever its free space
	// (DATA_ROOT_LOW_SPACE off, DISK_FULL under 1MiB), so that a test
	// expecting HEALTH_OK does not depend on the host's disk.
	health string
}

func newInstanceOpts(t testing.TB, name string, o instanceOpts) *instance {
	t.Helper()
	dir, err := os.MkdirTemp("", "archivd-e2e-"+name+"-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	in := &instance{t: t, name: name, dir: dir, config: filepath.Join(dir, "archivd.yaml"), http: testutil.FreePort(t, "127.0.0.1")}
	trackers := "[]"
	if o.tracker != "" {
		trackers = fmt.Sprintf("[%q]", o.tracker)
	}
	if o.host == "" {
		o.host = "127.0.0.1"
	}
	var network strings.Builder
	for _, l := range strings.Split(strings.TrimSpace(o.network), "\n") {
		if l != "" {
			network.WriteString("  " + strings.TrimSpace(l) + "\n")
		}
	}
	if o.health == "" {
		o.health = "low_space: 0%\nfull_space: 1MiB"
	}
	var healthKeys strings.Builder
	for _, l := range strings.Split(strings.TrimSpace(o.health), "\n") {
		healthKeys.WriteString("  " + strings.TrimSpace(l) + "\n")
	}
	in.port = testutil.FreePort(t, o.host)
	cfg := fmt.Sprintf(`state_dir: %s
node_id: %s
log:
  level: debug
  format: json
database:
  url: %q
  auto_migrate: true
network:
  listen_host: %s
  listen_port: %d
  dht: false
  pex: false
  port_forwarding: false
  trackers: %s
%shealth:
%sseeder:
  commit_interval: 100ms
  reconcile_interval: 5s
http:
  listen: 127.0.0.1:%d
%s`, dir, name, o.dbURL, o.host, in.port, trackers, network.String(), healthKeys.String(), in.http, o.extra)
	if err := os.WriteFile(in.config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(in.cleanup)
	return in
}

// cleanup stops the daemon and the embedded cluster whatever happened.
func (in *instance) cleanup() {
	if in.serve != nil {
		_ = in.serve.Process.Kill()
		<-in.done
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if s, err := pgserver.Start(ctx, pgserver.Options{Dir: filepath.Join(in.dir, "postgres"), NoInit: true}); err == nil {
		_ = s.Stop(ctx)
	}
	if in.t.Failed() && in.log != nil {
		in.t.Logf("%s log tail:\n%s", in.name, tail(in.log.String(), 40))
		dumpLog(in.t, in.name, in.log.String())
	}
	os.RemoveAll(in.dir)
}

// dumpLog writes a failed test's whole node log to $E2E_LOG_DIR (a
// debugging aid: the test output keeps only the tail).
func dumpLog(t testing.TB, node, log string) {
	dir := os.Getenv("E2E_LOG_DIR")
	if dir == "" {
		return
	}
	name := filepath.Join(dir, strings.NewReplacer("/", "_").Replace(t.Name())+"."+node+".log")
	if err := os.WriteFile(name, []byte(log), 0o644); err != nil {
		t.Logf("dump %s log: %v", node, err)
		return
	}
	t.Logf("%s log: %s", node, name)
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// run runs an archivd command and returns stdout, stderr and the exit code.
func (in *instance) run(args ...string) (string, string, int) {
	in.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"--config", in.config}, args...)...)
	cmd.Env = append(os.Environ(), in.env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		in.t.Fatalf("%s: archivd %v: %v", in.name, args, err)
	}
	return stdout.String(), stderr.String(), code
}

// cli runs an archivd command and returns stdout; it fails the test unless
// the exit code is want.
func (in *instance) cli(want int, args ...string) string {
	in.t.Helper()
	stdout, stderr, code := in.run(args...)
	if code != want {
		in.t.Fatalf("%s: archivd %v: exit %d, want %d\nstdout: %s\nstderr: %s", in.name, args, code, want, stdout, tail(stderr, 20))
	}
	return stdout
}

func (in *instance) cliJSON(v any, args ...string) {
	in.t.Helper()
	out := in.cli(0, append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		in.t.Fatalf("%s: archivd %v --json: %v: %s", in.name, args, err, out)
	}
}

// start runs archivd serve in the background.
func (in *instance) start() {
	in.t.Helper()
	if in.log == nil {
		in.log = &syncBuffer{}
	}
	from := len(in.log.String()) // the buffer keeps earlier runs' output
	cmd := exec.Command(bin, "--config", in.config, "serve")
	cmd.Env = append(append(os.Environ(), in.env...), in.serveEnv...)
	cmd.Stdout, cmd.Stderr = in.log, in.log
	if err := cmd.Start(); err != nil {
		in.t.Fatal(err)
	}
	in.serve, in.done = cmd, make(chan error, 1)
	go func() { in.done <- cmd.Wait() }()
	testutil.Eventually(in.t, 60*time.Second, in.name+" serving", func() bool {
		select {
		case err := <-in.done:
			in.t.Fatalf("%s: serve exited at start: %v\n%s", in.name, err, tail(in.log.String()[from:], 10))
		default:
		}
		return strings.Contains(in.log.String()[from:], "archivd serving")
	})
}

// kill sends SIGKILL: no flush, no clean stop; the embedded cluster survives.
func (in *instance) kill() {
	in.t.Helper()
	if err := in.serve.Process.Signal(syscall.SIGKILL); err != nil {
		in.t.Fatal(err)
	}
	<-in.done
	in.serve = nil
}

// stop sends SIGTERM and requires a clean exit 0.
func (in *instance) stop() {
	in.t.Helper()
	if err := in.serve.Process.Signal(syscall.SIGTERM); err != nil {
		in.t.Fatal(err)
	}
	select {
	case err := <-in.done:
		if err != nil {
			in.t.Fatalf("%s: serve exited with %v after SIGTERM", in.name, err)
		}
	case <-time.After(2 * time.Minute):
		in.t.Fatalf("%s: serve did not stop within 2 minutes of SIGTERM", in.name)
	}
	in.serve = nil
}

// metrics scrapes /metrics and returns the value of each sample by name and labels; a series labelled only by node is also under its bare name.
func (in *instance) metrics() map[string]float64 {
	in.t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", in.http))
	if err != nil {
		in.t.Fatalf("%s: scrape /metrics: %v", in.name, err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, val, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if v, err := strconv.ParseFloat(val, 64); err == nil {
			out[name] = v
			// This node's own series carry only its node label: also
			// under the bare name.
			if bare, labels, ok := strings.Cut(name, "{"); ok && strings.HasPrefix(labels, "node=") && !strings.Contains(labels, ",") {
				out[bare] = v
			}
		}
	}
	return out
}

var runLine = regexp.MustCompile(`run (\d+) `)

// runOf returns the id of the run `verify --wait` printed in out.
func runOf(t testing.TB, out string) string {
	t.Helper()
	m := runLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("verify --wait printed no run line:\n%s", out)
	}
	return m[1]
}
