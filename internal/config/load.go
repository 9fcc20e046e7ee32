package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// ErrInvalid is wrapped by every error of Load and Validate, so callers can
// tell a bad configuration (fix the input) from other failures.
var ErrInvalid = errors.New("invalid configuration")

type configError struct{ msg string }

func (e *configError) Error() string { return e.msg }
func (e *configError) Unwrap() error { return ErrInvalid }

func errorf(format string, args ...any) error {
	return &configError{msg: "config: " + fmt.Sprintf(format, args...)}
}

// EnvConfigFile is the environment variable naming the config file; it is
// the one ARCHIVD_* variable that is not a key.
const EnvConfigFile = "ARCHIVD_CONFIG"

// Load builds the configuration: defaults, then the YAML file at path (""
// = none), then ARCHIVD_* variables of env, then the flags of fs that were
// changed and name a key (fs may be nil). Then it validates.
func Load(path string, env []string, fs *pflag.FlagSet) (*Config, error) {
	c := Default()
	if path != "" {
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, errorf("read %s: %v", path, unwrapPathErr(err))
		}
		if err := c.applyYAML(path, raw); err != nil {
			return nil, err
		}
	}
	if err := c.applyEnv(env); err != nil {
		return nil, err
	}
	if err := c.applyFlags(fs); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (c *Config) applyYAML(path string, raw []byte) error {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // an empty file sets nothing
		}
		return errorf("%s: %s", path, oneLine(err.Error()))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return errorf("%s: holds more than one YAML document; archivd reads one", path)
	}
	if len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		return errorf("%s:%d: the file must be a mapping of keys (like state_dir: ./state)", path, root.Line)
	}
	return c.applyMapping(path, "", root)
}

func (c *Config) applyMapping(path, prefix string, m *yaml.Node) error {
	seen := map[string]bool{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		key := prefix + k.Value
		if seen[key] {
			return errorf("%s:%d: key %q is set twice", path, k.Line, key)
		}
		seen[key] = true
		if err := c.applyNode(path, key, k, v); err != nil {
			return err
		}
	}
	return nil
}

func (c *Config) applyNode(path, key string, k, v *yaml.Node) error {
	if k.Kind != yaml.ScalarNode {
		return errorf("%s:%d: keys must be plain names", path, k.Line)
	}
	if key == collectionsKey {
		return c.applyCollections(path, v)
	}
	f, ok := fieldByKey(key)
	if !ok {
		if isSection(key) {
			if v.Kind != yaml.MappingNode {
				return errorf("%s:%d: %s is a section: give it keys, not a value", path, v.Line, key)
			}
			return c.applyMapping(path, key+".", v)
		}
		return errorf("%s:%d: unknown key %q", path, k.Line, key)
	}
	if err := c.applyLeaf(f, v); err != nil {
		return errorf("%s:%d: %s: %v", path, v.Line, key, err)
	}
	return nil
}

func isSection(key string) bool {
	for _, f := range fields() {
		if strings.HasPrefix(f.key, key+".") {
			return true
		}
	}
	return false
}

func (c *Config) applyLeaf(f field, v *yaml.Node) error {
	switch v.Kind {
	case yaml.SequenceNode:
		items := make([]string, 0, len(v.Content))
		for _, it := range v.Content {
			if it.Kind != yaml.ScalarNode {
				return fmt.Errorf("list items must be plain values")
			}
			items = append(items, it.Value)
		}
		return c.setList(f, items)
	case yaml.ScalarNode:
		if v.Tag == "!!null" {
			c.value(f).SetZero()
			return nil
		}
		if f.typ.Kind() == reflect.Slice {
			return fmt.Errorf("must be a list (like [a, b])")
		}
		return c.setString(f, v.Value)
	}
	return fmt.Errorf("must be a plain value")
}

func (c *Config) applyEnv(env []string) error {
	byName := map[string]field{}
	for _, f := range fields() {
		byName[EnvName(f.key)] = f
	}
	for _, kv := range env {
		name, val, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "ARCHIVD_") || name == EnvConfigFile {
			continue
		}
		f, ok := byName[name]
		if !ok {
			return errorf("environment: %s names no configuration key", name)
		}
		if err := c.setString(f, val); err != nil {
			return errorf("environment: %s (%s): %v", name, f.key, err)
		}
	}
	return nil
}

func (c *Config) applyFlags(fs *pflag.FlagSet) error {
	if fs == nil {
		return nil
	}
	var err error
	fs.Visit(func(fl *pflag.Flag) {
		key, ok := FlagKey(fl.Name)
		if !ok || err != nil {
			return
		}
		f, _ := fieldByKey(key)
		if sv, ok := fl.Value.(pflag.SliceValue); ok && f.typ.Kind() == reflect.Slice {
			err = c.setList(f, sv.GetSlice())
		} else {
			err = c.setString(f, fl.Value.String())
		}
		if err != nil {
			err = errorf("flag --%s: %v", fl.Name, err)
		}
	})
	return err
}

// oneLine keeps error messages on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}
