// Package ansible_test runs the example role's configuration tasks on
// localhost with a freshly built archivd: the template is validated by
// 'archivd config check' before it replaces the file.
package ansible_test

import (
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const playbook = `- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - ansible.builtin.include_role:
        name: archivd
        tasks_from: config
`

func TestRoleWritesAValidatedConfigAndRefusesABadOne(t *testing.T) {
	if _, err := exec.LookPath("ansible-playbook"); err != nil {
		t.Skip("ansible-playbook not installed")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "archivd")
	if out, err := exec.Command("go", "build", "-trimpath", "-o", bin, "../../cmd/archivd").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	play := filepath.Join(dir, "play.yml")
	if err := os.WriteFile(play, []byte(playbook), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "archivd.yaml")
	g, err := user.LookupGroupId(strconv.Itoa(os.Getegid()))
	if err != nil {
		t.Fatal(err)
	}
	run := func(extra ...string) (string, error) {
		args := []string{"-i", "localhost,", play, "-e", "archivd_bin=" + bin, "-e", "archivd_config_path=" + conf,
			"-e", "archivd_config_group=" + g.Name, "-e", "archivd_reload=false", "-e", "archivd_state_dir=" + filepath.Join(dir, "state")}
		for _, e := range extra {
			args = append(args, "-e", e)
		}
		cmd := exec.Command("ansible-playbook", args...)
		cmd.Env = append(os.Environ(), "ANSIBLE_ROLES_PATH="+mustAbs(t, "roles"), "ANSIBLE_NOCOLOR=1",
			"ANSIBLE_LOCAL_TEMP="+filepath.Join(dir, "tmp"), "ANSIBLE_HOME="+filepath.Join(dir, "home"))
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run("archivd_listen_port=7001"); err != nil || !strings.Contains(out, "changed=1") {
		t.Fatalf("first run: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin, "config", "check", conf).CombinedOutput(); err != nil {
		t.Fatalf("written config: %v %s", err, out)
	}
	written, _ := os.ReadFile(conf)
	if !strings.Contains(string(written), "listen_port: 7001") {
		t.Fatalf("written config:\n%s", written)
	}
	if out, err := run("archivd_listen_port=7001"); err != nil || !strings.Contains(out, "changed=0") {
		t.Errorf("second run is not idempotent: %v\n%s", err, out)
	}
	out, err := run("archivd_listen_port=70000")
	if err == nil || !strings.Contains(out, "network.listen_port: 70000 is not a port") {
		t.Errorf("invalid port not refused by validate: %v\n%s", err, out)
	}
	if after, _ := os.ReadFile(conf); string(after) != string(written) {
		t.Errorf("a refused config replaced the file:\n%s", after)
	}
}

func mustAbs(t *testing.T, p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
