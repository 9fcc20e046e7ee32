package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "archivd.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaultValidates(t *testing.T) {
	t.Parallel()
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestExampleFilesValidate(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"archivd.example.yaml", "archivd.production.yaml"} {
		if _, err := Load(filepath.Join("..", "..", "configs", name), nil, nil); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// The example documents every key with its default: it must list each key
// explicitly and loading it must give exactly Default().
func TestExampleDocumentsEveryKeyWithItsDefault(t *testing.T) {
	t.Parallel()
	path := filepath.Join("..", "..", "configs", "archivd.example.yaml")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, key := range Keys() {
		m, parts := doc, strings.Split(key, ".")
		for _, p := range parts[:len(parts)-1] {
			m, _ = m[p].(map[string]any)
		}
		if _, ok := m[parts[len(parts)-1]]; !ok {
			t.Errorf("configs/archivd.example.yaml does not document key %s", key)
		}
	}
	c, err := Load(path, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := Default(); !reflect.DeepEqual(*c, d) {
		t.Errorf("example values differ from Default():\n%+v\n%+v", *c, d)
	}
}

func TestProductionExampleSettings(t *testing.T) {
	t.Parallel()
	c, err := Load(filepath.Join("..", "..", "configs", "archivd.production.yaml"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Network.DHT || !c.Network.PEX || c.Network.ListenHost != "0.0.0.0" || c.Database.PasswordFile == "" ||
		!strings.HasPrefix(c.DataDir, "/srv/") || c.Network.UploadRate != 100*MiB {
		t.Fatalf("unexpected production config: %+v", c)
	}
}

func TestPrecedenceFileEnvFlags(t *testing.T) {
	t.Parallel()
	p := writeFile(t, "network:\n  listen_port: 7000\n  upload_rate: 1MiB\nlog:\n  level: debug\n")
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	fs.String("log-level", "", "")
	fs.String("state-dir", "", "")
	fs.String("database.url", "", "")
	if err := fs.Parse([]string{"--log-level=warn", "--database.url=postgres://u@h/db"}); err != nil {
		t.Fatal(err)
	}
	env := []string{"ARCHIVD_NETWORK_LISTEN_PORT=7001", "ARCHIVD_LOG_LEVEL=error", "ARCHIVD_CONFIG=/ignored",
		"ARCHIVD_VERIFY_SCHEDULES=0 2 * * *, 0 3 * * *", "PATH=/bin"}
	c, err := Load(p, env, fs)
	if err != nil {
		t.Fatal(err)
	}
	if c.Network.ListenPort != 7001 || c.Log.Level != "warn" || c.Network.UploadRate != MiB ||
		c.Database.URL != "postgres://u@h/db" || c.StateDir != "./state" {
		t.Fatalf("got %+v", c)
	}
	if want := []string{"0 2 * * *", "0 3 * * *"}; !reflect.DeepEqual(c.Verify.Schedules, want) {
		t.Fatalf("schedules %q", c.Verify.Schedules)
	}
}

func TestLoadErrorsNameKeyAndValue(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, file string
		env        []string
		want       string
	}{
		{"port range", "network:\n  listen_port: 70000\n", nil, "config: network.listen_port: 70000 is not a port (0-65535)"},
		{"unknown key", "network:\n  lisen_port: 1\n", nil, `config: FILE:2: unknown key "network.lisen_port"`},
		{"unknown section", "nework:\n  listen_port: 1\n", nil, `config: FILE:1: unknown key "nework"`},
		{"section as value", "network: 5\n", nil, "config: FILE:1: network is a section: give it keys, not a value"},
		{"bad int", "network:\n  listen_port: abc\n", nil, `config: FILE:2: network.listen_port: "abc" is not an integer`},
		{"bad duration", "seeder:\n  commit_interval: 5x\n", nil, `config: FILE:2: seeder.commit_interval: "5x" is not a duration (like 200ms, 1m, 6h)`},
		{"bad bytes", "verify:\n  rate: 10Mo\n", nil, `config: FILE:2: verify.rate: "10Mo" is not a byte size (like 512KiB, 10MiB, 1GB)`},
		{"list wanted", "verify:\n  schedules: 0 1 * * *\n", nil, "config: FILE:2: verify.schedules: must be a list (like [a, b])"},
		{"bad cron", "verify:\n  schedules: [\"61 1 * * *\"]\n", nil, `config: verify.schedules: "61 1 * * *" is not a cron expression (5 fields, or @daily, @every 6h...): end of range (61) above maximum (59): 61`},
		{"duplicate", "state_dir: a\nstate_dir: b\n", nil, `config: FILE:2: key "state_dir" is set twice`},
		{"level", "log:\n  level: loud\n", nil, `config: log.level: "loud" is not one of trace, debug, info, warn, error`},
		{"not a mapping", "- a\n", nil, "config: FILE:1: the file must be a mapping of keys"},
		{"yaml syntax", "a: [\n", nil, "config: FILE: yaml:"},
		{"two documents", "state_dir: a\n---\nstate_dir: b\n", nil, "config: FILE: holds more than one YAML document; archivd reads one"},
		{"unknown env", "", []string{"ARCHIVD_NETWORK_LISTEN_PROT=1"}, "config: environment: ARCHIVD_NETWORK_LISTEN_PROT names no configuration key"},
		{"bad env value", "", []string{"ARCHIVD_NETWORK_DHT=maybe"}, `config: environment: ARCHIVD_NETWORK_DHT (network.dht): "maybe" is not true or false`},
		{"public http without token", "http:\n  listen: 0.0.0.0:80\n", nil, `config: http.listen: "0.0.0.0:80" is not loopback: set http.token_file`},
		{"node zone", "node:\n  zone: \"eu west\"\n", nil, `config: node.zone: "eu west" is not a zone`},
		{"node tag", "node:\n  tags: [ssd, \"a b\"]\n", nil, `config: node.tags: "a b" is not a tag`},
		{"node tag twice", "node:\n  tags: [ssd, ssd]\n", nil, `config: node.tags: "ssd" is listed twice`},
		{"node tags not a list", "node:\n  tags: ssd\n", nil, "config: FILE:2: node.tags: must be a list"},
		{"node name", "node:\n  name: \" x\"\n", nil, `config: node.name: " x" is not a node name`},
		{"advertise no port", "node:\n  advertise_address: 10.0.0.1\n", nil, `config: node.advertise_address: "10.0.0.1" is not host:port`},
		{"advertise port", "node:\n  advertise_address: 10.0.0.1:0\n", nil, `config: node.advertise_address: "10.0.0.1:0": port "0" is not 1-65535`},
		{"advertise unspecified", "node:\n  advertise_address: 0.0.0.0:6881\n", nil, `config: node.advertise_address: "0.0.0.0:6881": 0.0.0.0 is not an address another node can dial`},
		{"node env tags", "", []string{"ARCHIVD_NODE_TAGS=ok,b@d"}, `config: node.tags: "b@d" is not a tag`},
		{"password file with embedded", "database:\n  password_file: /x\n", nil, "config: database.password_file: \"/x\" is set but database.url is empty"},
		{"session url with embedded", "database:\n  session_url: postgres://db/a\n", nil, `config: database.session_url: "postgres://db/a" is set but database.url is empty`},
		{"bad pool mode", "database:\n  url: postgres://db/a\n  pool_mode: statement\n", nil, `config: database.pool_mode: "statement" is not session or transaction`},
		{"transaction pool listening without session url", "database:\n  url: postgres://pgb/a\n  pool_mode: transaction\n", nil,
			"config: database.session_url: is empty, but database.pool_mode is transaction and database.listen is true"},
		{"poll interval", "database:\n  listen: false\n  poll_interval: 5m\n", nil, "config: database.poll_interval: 5m0s is not between 100ms and 1m"},
		{"recoveries per node", "fleet:\n  max_recoveries_per_node: -1\n", nil, "config: fleet.max_recoveries_per_node: -1 must not be negative"},
		{"balance margin", "fleet:\n  balance_margin: 0.7\n", nil, "config: fleet.balance_margin: 0.7 is not between 0.01 and 0.5"},
		{"recovery rate", "fleet:\n  recovery_rate: -1\n", nil, `config: FILE:2: fleet.recovery_rate: "-1" is not a byte size`},
		{"recovery send rate", "fleet:\n  recovery_send_rate: fast\n", nil, `config: FILE:2: fleet.recovery_send_rate: "fast" is not a byte size`},
		{"recovery stall after", "fleet:\n  recovery_stall_after: 10ms\n", nil, "config: fleet.recovery_stall_after: 10ms is under a second (0 = never stalled)"},
		{"recovery stall after negative", "fleet:\n  recovery_stall_after: -1m\n", nil, "config: fleet.recovery_stall_after: -1m0s is under a second (0 = never stalled)"},
		{"bad session url", "database:\n  url: postgres://db/a\n  session_url: db\n", nil, `config: database.session_url: "db" is not a postgres:// URL or a key=value connection string`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, tc.file)
			_, err := Load(p, tc.env, nil)
			if err == nil {
				t.Fatal("no error")
			}
			want := strings.ReplaceAll(tc.want, "FILE", p)
			if !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q, want prefix %q", err, want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
		})
	}
}

func TestMissingFile(t *testing.T) {
	t.Parallel()
	_, err := Load("/nonexistent/archivd.yaml", nil, nil)
	if err == nil || err.Error() != "config: read /nonexistent/archivd.yaml: no such file or directory" {
		t.Fatalf("got %v", err)
	}
}

func TestEmptyFileKeepsDefaults(t *testing.T) {
	t.Parallel()
	c, err := Load(writeFile(t, ""), nil, nil)
	if err != nil || !reflect.DeepEqual(*c, Default()) {
		t.Fatalf("got %+v, %v", c, err)
	}
}

func TestRedactedAndDatabaseURL(t *testing.T) {
	t.Parallel()
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("s3cr:et\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := Default()
	c.Database.URL = "postgres://archivd:inline@db/archivd?sslmode=disable"
	c.Database.PasswordFile = pw
	c.Verify.WebhookURL = "https://hook:tok@example.org/x"
	r := c.Redacted()
	if r.Database.URL != "postgres://archivd:REDACTED@db/archivd?sslmode=disable" ||
		r.Verify.WebhookURL != "https://hook:REDACTED@example.org/x" {
		t.Fatalf("redacted %q %q", r.Database.URL, r.Verify.WebhookURL)
	}
	if c.Database.URL == r.Database.URL {
		t.Fatal("Redacted modified the original")
	}
	u, err := c.DatabaseURL()
	if err != nil || u != "postgres://archivd:s3cr%3Aet@db/archivd?sslmode=disable" {
		t.Fatalf("DatabaseURL %q %v", u, err)
	}
	dsn := Config{Database: DatabaseConfig{URL: "host=db password=abc user=x"}}
	if got := dsn.Redacted().Database.URL; got != "host=db password=REDACTED user=x" {
		t.Fatalf("dsn redacted %q", got)
	}
	c.Database.PasswordFile = filepath.Join(t.TempDir(), "missing")
	if _, err := c.DatabaseURL(); err == nil || !strings.Contains(err.Error(), "database.password_file: read") {
		t.Fatalf("missing password file: %v", err)
	}
}

func TestByteSize(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]ByteSize{"123": 123, "10MiB": 10 * MiB, "1GB": 1e9, "512KiB": 512 * KiB, "1.5 GiB": 3 * GiB / 2, "0": 0} {
		got, err := ParseByteSize(in)
		if err != nil || got != want {
			t.Errorf("%q: %d %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "x", "-1", "10XB", "1e30GiB"} {
		if _, err := ParseByteSize(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if s := (10 * MiB).String(); s != "10MiB" {
		t.Errorf("String %q", s)
	}
	if s := ByteSize(1500).String(); s != "1500B" {
		t.Errorf("String %q", s)
	}
}

func TestYAMLRoundTrip(t *testing.T) {
	t.Parallel()
	c := Default()
	c.Network.Trackers = []string{"http://127.0.0.1:1/announce"}
	c.Seeder.CommitInterval = 250 * time.Millisecond
	out, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Load(writeFile(t, string(out)), nil, nil)
	if err != nil || !reflect.DeepEqual(*back, c) {
		t.Fatalf("round trip: %v\n%s", err, out)
	}
}

func TestFlagKey(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"state-dir": "state_dir", "database.url": "database.url", "log-level": "log.level", "log.format": "log.format"} {
		if got, ok := FlagKey(in); !ok || got != want {
			t.Errorf("%s -> %s %v", in, got, ok)
		}
	}
	if _, ok := FlagKey("json"); ok {
		t.Error("json is not a key")
	}
}

func TestNodeKeysLoad(t *testing.T) {
	p := writeFile(t, "node:\n  name: store one\n  zone: eu-west.1\n  tags: [ssd, \"rack=r4\"]\n  advertise_address: \"[::1]:6881\"\n")
	c, err := Load(p, []string{"ARCHIVD_NODE_ZONE=eu-east"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := NodeConfig{Name: "store one", Zone: "eu-east", Tags: []string{"ssd", "rack=r4"}, AdvertiseAddress: "[::1]:6881"}
	if !reflect.DeepEqual(c.Node, want) {
		t.Fatalf("node: %+v, want %+v", c.Node, want)
	}
}

// The session URL gets the password file's password as database.url
// does (also with several hosts), and is redacted for printing.
func TestSessionURLGetsPasswordAndIsRedacted(t *testing.T) {
	t.Parallel()
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("s3cr:et\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := Default()
	c.Database.URL = "postgres://archivd@db1:5432,db2:5432/archivd?target_session_attrs=read-write"
	c.Database.SessionURL = "postgres://archivd:inline@db1:5432/archivd"
	c.Database.PasswordFile = pw
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	u, err := c.DatabaseURL()
	if err != nil || u != "postgres://archivd:s3cr%3Aet@db1:5432,db2:5432/archivd?target_session_attrs=read-write" {
		t.Fatalf("DatabaseURL %q %v", u, err)
	}
	s, err := c.SessionURL()
	if err != nil || s != "postgres://archivd:s3cr%3Aet@db1:5432/archivd" {
		t.Fatalf("SessionURL %q %v", s, err)
	}
	if r := c.Redacted(); r.Database.SessionURL != "postgres://archivd:REDACTED@db1:5432/archivd" {
		t.Fatalf("redacted session url %q", r.Database.SessionURL)
	}
}
