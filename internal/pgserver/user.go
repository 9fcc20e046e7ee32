package pgserver

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// runAs describes the unprivileged account PostgreSQL runs as when archivd
// is root. A nil *runAs means "run as the current user".
type runAs struct {
	name     string
	uid, gid uint32
}

func pickUser(name string) (*runAs, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	candidates := []string{"postgres", "nobody"}
	if name != "" {
		candidates = []string{name}
	}
	for _, c := range candidates {
		u, err := user.Lookup(c)
		if err != nil {
			continue
		}
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		if uid == 0 {
			continue
		}
		return &runAs{name: c, uid: uint32(uid), gid: uint32(gid)}, nil
	}
	return nil, fmt.Errorf("running as root, but no unprivileged user (%v) exists to run PostgreSQL as", candidates)
}

func (r *runAs) sysProcAttr() *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: true}
	if r != nil {
		attr.Credential = &syscall.Credential{Uid: r.uid, Gid: r.gid, NoSetGroups: true}
	}
	return attr
}

// chown gives dir to the run-as user (no-op when not root).
func (r *runAs) chown(dir string) error {
	if r == nil {
		return nil
	}
	return os.Chown(dir, int(r.uid), int(r.gid))
}

// checkTraversable makes sure the run-as user can reach dir: every ancestor
// must be searchable by "other" (or owned by that user).
func (r *runAs) checkTraversable(dir string) error {
	if r == nil {
		return nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	for p := filepath.Dir(abs); ; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("stat %s: %w", p, err)
		}
		sys, _ := st.Sys().(*syscall.Stat_t)
		owned := sys != nil && sys.Uid == r.uid
		if !owned && st.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("directory %s is not searchable by user %s, who runs PostgreSQL: chmod o+x %s or choose another state_dir", p, r.name, p)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}
