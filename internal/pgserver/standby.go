package pgserver

import (
	"context"
	"fmt"
	"net/url"
	"os/exec"
	"path/filepath"
	"strconv"
)

// StartStandby makes opts.Dir a streaming standby of primary (which must
// listen on TCP: Options.TCP) with pg_basebackup -R, then starts it. For
// failover tests: Promote makes it the primary.
func StartStandby(ctx context.Context, primary *Server, opts Options) (*Server, error) {
	if !primary.opts.TCP {
		return nil, fmt.Errorf("embedded postgres: standby of %s: the primary does not listen on TCP", primary.opts.Dir)
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	ra, err := pickUser(opts.User)
	if err != nil {
		return nil, fmt.Errorf("embedded postgres: %w", err)
	}
	s := &Server{opts: Options{Dir: dir}, binDir: primary.binDir, dataDir: filepath.Join(dir, "data"), user: ra}
	if err := s.prepareDir(); err != nil {
		return nil, err
	}
	out, err := s.run(ctx, "pg_basebackup", "-h", "127.0.0.1", "-p", strconv.Itoa(primary.opts.Port), "-U", "archivd",
		"-D", s.dataDir, "-R", "-X", "stream", "--checkpoint=fast", "--no-sync")
	if err != nil {
		return nil, fmt.Errorf("embedded postgres: pg_basebackup of %s: %w: %s", primary.opts.Dir, err, lastLines(out, 5))
	}
	return Start(ctx, opts)
}

// Promote ends recovery on a standby: it becomes a primary.
func (s *Server) Promote(ctx context.Context) error {
	if out, err := s.run(ctx, "pg_ctl", "promote", "-D", s.dataDir, "-w", "-t", "60"); err != nil {
		return fmt.Errorf("embedded postgres: promote %s: %w: %s", s.dataDir, err, lastLines(out, 3))
	}
	return nil
}

// TCPURL returns a connection string for database db over 127.0.0.1
// (Options.TCP).
func (s *Server) TCPURL(db string) string {
	return (&url.URL{Scheme: "postgres", User: url.User("archivd"), Host: "127.0.0.1:" + strconv.Itoa(s.opts.Port), Path: "/" + db}).String()
}

// Command returns cmd prepared to run as the cluster's user (for tests:
// a pgbouncer refuses to run as root).
func (s *Server) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = s.user.sysProcAttr()
	return cmd
}

// Chown gives dir to the cluster's user (for files a Command reads).
func (s *Server) Chown(dir string) error { return s.user.chown(dir) }

// Port is the cluster's port (socket name, and TCP with Options.TCP).
func (s *Server) Port() int { return s.opts.Port }
