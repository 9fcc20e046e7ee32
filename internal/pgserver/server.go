package pgserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"golang.org/x/sys/unix"
)

// Options configures a private cluster.
type Options struct {
	// Dir holds the cluster: Dir/data is PGDATA, the unix socket and the
	// server log live in Dir. Created when missing.
	Dir string
	// BinDir holds initdb/pg_ctl/postgres; empty = FindBinDir("").
	BinDir string
	// User to run PostgreSQL as when archivd is root; empty = postgres,
	// else nobody. Ignored when not root.
	User string
	// Port names the socket file (.s.PGSQL.<port>); 0 = 5432. Nothing
	// listens on TCP.
	Port int
	// Fast turns fsync, full_page_writes and synchronous_commit off: for
	// throwaway test clusters only.
	Fast bool
	// StartTimeout bounds pg_ctl start; 0 = 60s.
	StartTimeout time.Duration
	// NoInit refuses to create a cluster: with none in Dir, Start returns
	// ErrNoCluster and creates nothing (read-only commands).
	NoInit bool
	// TCP also listens on 127.0.0.1:Port (tests: a pooler in front of
	// the cluster, streaming replication). The embedded default never does.
	TCP bool
	// Settings are extra server settings (name -> value), for tests.
	Settings map[string]string
}

// ErrNoCluster is returned by Start with NoInit when Dir holds no cluster.
var ErrNoCluster = errors.New("no PostgreSQL cluster")

// Exists reports whether dir holds an initialised cluster (dir/data/PG_VERSION).
func Exists(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "data", "PG_VERSION"))
	return err == nil
}

// Server is a running private cluster.
type Server struct {
	opts    Options
	binDir  string
	dataDir string
	user    *runAs
	// Started reports whether this call started the cluster (false: an
	// already running cluster was reused).
	Started bool
	// users is this process's shared lock on users.lock (see lock.go).
	users *os.File
}

// Start initialises the cluster if needed and starts it unless it already
// runs (for example after the previous archivd was killed). It is safe to
// call again on the same Dir, from several processes at once. The caller
// uses the cluster until Close, which stops it when no other archivd
// process uses it.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Port == 0 {
		opts.Port = 5432
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 60 * time.Second
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("embedded postgres: resolve %s: %w", opts.Dir, err)
	}
	opts.Dir = dir
	if opts.NoInit && !Exists(dir) {
		return nil, fmt.Errorf("embedded postgres: %w in %s", ErrNoCluster, filepath.Join(dir, "data"))
	}
	if n := len(filepath.Join(dir, ".s.PGSQL."+strconv.Itoa(opts.Port))); n > 107 {
		return nil, fmt.Errorf("embedded postgres: socket path under %s is %d bytes, over the 107-byte unix socket limit: choose a shorter state_dir", dir, n)
	}
	bin, err := FindBinDir(opts.BinDir)
	if err != nil {
		return nil, err
	}
	ra, err := pickUser(opts.User)
	if err != nil {
		return nil, fmt.Errorf("embedded postgres: %w", err)
	}
	s := &Server{opts: opts, binDir: bin, dataDir: filepath.Join(dir, "data"), user: ra}
	if err := s.prepareDir(); err != nil {
		return nil, err
	}
	unlock, err := s.lockCtl(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := s.initdb(ctx); err != nil {
		return nil, err
	}
	running, err := s.running(ctx)
	if err != nil {
		return nil, err
	}
	if !running {
		if err := s.start(ctx); err != nil {
			return nil, err
		}
		s.Started = true
	}
	if s.users, err = flock(ctx, filepath.Join(s.opts.Dir, usersLock), unix.LOCK_SH); err != nil {
		return nil, fmt.Errorf("embedded postgres: lock %s: %w", s.opts.Dir, err)
	}
	return s, nil
}

func (s *Server) prepareDir() error {
	if err := os.MkdirAll(s.opts.Dir, 0o755); err != nil {
		return fmt.Errorf("embedded postgres: create %s: %w", s.opts.Dir, err)
	}
	if err := s.user.checkTraversable(s.opts.Dir); err != nil {
		return fmt.Errorf("embedded postgres: %w", err)
	}
	if err := s.user.chown(s.opts.Dir); err != nil {
		return fmt.Errorf("embedded postgres: chown %s: %w", s.opts.Dir, err)
	}
	return nil
}

func (s *Server) initdb(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(s.dataDir, "PG_VERSION")); err == nil {
		return nil
	}
	// No PG_VERSION: nothing, or the leftovers of an interrupted initdb.
	if err := os.RemoveAll(s.dataDir); err != nil {
		return fmt.Errorf("embedded postgres: remove partial cluster %s: %w", s.dataDir, err)
	}
	args := []string{"-D", s.dataDir, "-U", "archivd", "--auth=trust", "--encoding=UTF8", "--locale=C"}
	if s.opts.Fast {
		args = append(args, "--no-sync")
	}
	if out, err := s.run(ctx, "initdb", args...); err != nil {
		return fmt.Errorf("embedded postgres: initdb %s: %w: %s", s.dataDir, err, lastLines(out, 5))
	}
	return nil
}

// running reports whether the cluster's postmaster is alive: a zombie
// postmaster, or a PID file naming a dead process or another program, is
// not a running cluster (pg_ctl status takes both for one).
func (s *Server) running(context.Context) (bool, error) {
	_, alive := s.postmaster()
	return alive, nil
}

func (s *Server) serverOptions() string {
	o := []string{
		"-c listen_addresses=" + map[bool]string{false: "''", true: "127.0.0.1"}[s.opts.TCP],
		"-c unix_socket_directories='" + s.opts.Dir + "'",
		"-c port=" + strconv.Itoa(s.opts.Port),
		"-c max_connections=200",
		// JIT needs writable+executable memory, which the hardened systemd
		// unit (MemoryDenyWriteExecute) forbids; catalog queries gain nothing.
		"-c jit=off",
	}
	if s.opts.Fast {
		o = append(o, "-c fsync=off", "-c full_page_writes=off", "-c synchronous_commit=off")
	}
	for _, k := range slices.Sorted(maps.Keys(s.opts.Settings)) {
		o = append(o, "-c "+k+"='"+s.opts.Settings[k]+"'")
	}
	return strings.Join(o, " ")
}

func (s *Server) start(ctx context.Context) error {
	// Not running (see running): a postmaster.pid left behind names a
	// dead or zombie postmaster, or a PID now used by another process;
	// postgres would refuse to start over it.
	// The socket's lock file names the same dead postmaster; the socket
	// directory is the cluster's own.
	if err := s.waitForOrphans(ctx, 30*time.Second); err != nil {
		return err
	}
	sock := filepath.Join(s.opts.Dir, ".s.PGSQL."+strconv.Itoa(s.opts.Port))
	for _, stale := range []string{filepath.Join(s.dataDir, "postmaster.pid"), sock + ".lock", sock} {
		if err := os.Remove(stale); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("embedded postgres: remove stale %s: %w", stale, err)
		}
	}
	args := []string{"start", "-D", s.dataDir, "-w", "-t", strconv.Itoa(int(s.opts.StartTimeout.Seconds())),
		"-l", filepath.Join(s.opts.Dir, "postgres.log"), "-o", s.serverOptions()}
	out, err := s.run(ctx, "pg_ctl", args...)
	if err == nil {
		return nil
	}
	log, _ := os.ReadFile(filepath.Join(s.opts.Dir, "postgres.log"))
	return fmt.Errorf("embedded postgres: start %s: %w: %s %s", s.dataDir, err, lastLines(out, 3), lastLines(log, 5))
}

// Stop shuts the cluster down (fast mode: active sessions are rolled back).
func (s *Server) Stop(ctx context.Context) error {
	if _, alive := s.postmaster(); !alive {
		return nil // nothing to stop (pg_ctl would wait on a zombie)
	}
	if out, err := s.run(ctx, "pg_ctl", "stop", "-D", s.dataDir, "-m", "fast", "-w", "-t", "60"); err != nil {
		if running, _ := s.running(ctx); !running {
			return nil
		}
		return fmt.Errorf("embedded postgres: stop %s: %w: %s", s.dataDir, err, lastLines(out, 3))
	}
	return nil
}

// URL returns a connection string for database db over the unix socket.
func (s *Server) URL(db string) string {
	q := url.Values{"host": {s.opts.Dir}, "port": {strconv.Itoa(s.opts.Port)}}
	return (&url.URL{Scheme: "postgres", User: url.User("archivd"), Path: "/" + db, RawQuery: q.Encode()}).String()
}

// Dir is the cluster's directory.
func (s *Server) Dir() string { return s.opts.Dir }

// EnsureDatabase creates database db unless it exists.
func (s *Server) EnsureDatabase(ctx context.Context, db string) error {
	if err := catalog.EnsureDatabase(ctx, s.URL("postgres"), db); err != nil {
		return fmt.Errorf("embedded postgres: %w", err)
	}
	return nil
}

func (s *Server) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(s.binDir, name), args...)
	cmd.SysProcAttr = s.user.sysProcAttr()
	cmd.Dir = s.opts.Dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	var buf bytes.Buffer
	cmd.Stdout = &buf
	cmd.Stderr = &buf
	err := cmd.Run()
	return buf.Bytes(), err
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
