package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// field is one configuration key and where it lives in Config.
type field struct {
	key   string
	index []int
	typ   reflect.Type
}

var (
	durationType = reflect.TypeOf(time.Duration(0))
	byteSizeType = reflect.TypeOf(ByteSize(0))
)

// fields lists every key of Config in declaration order. It is derived
// from the struct tags so the key set cannot drift from the struct.
func fields() []field {
	return walk(reflect.TypeOf(Config{}), "", nil)
}

func walk(t reflect.Type, prefix string, index []int) []field {
	var out []field
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if sf.Tag.Get("key") == "-" {
			continue // a structured value (collections), not a flat key
		}
		key := prefix + sf.Tag.Get("key")
		idx := append(append([]int(nil), index...), i)
		if sf.Type.Kind() == reflect.Struct && sf.Type != freeSpaceType {
			out = append(out, walk(sf.Type, key+".", idx)...)
			continue
		}
		out = append(out, field{key: key, index: idx, typ: sf.Type})
	}
	return out
}

// Keys returns every configuration key (dotted) in declaration order.
func Keys() []string {
	fs := fields()
	keys := make([]string, len(fs))
	for i, f := range fs {
		keys[i] = f.key
	}
	return keys
}

// EnvName is the environment variable that sets key.
func EnvName(key string) string {
	return "ARCHIVD_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// normalize folds the spellings a flag may use for a key (log.level,
// log-level, log_level) into one.
func normalize(name string) string {
	return strings.NewReplacer(".", "_", "-", "_").Replace(strings.ToLower(name))
}

// fieldByKey finds a field by its exact key.
func fieldByKey(key string) (field, bool) {
	for _, f := range fields() {
		if f.key == key {
			return f, true
		}
	}
	return field{}, false
}

// FlagKey returns the key a flag name sets ("state-dir" -> "state_dir",
// "database.url" -> "database.url"), if any.
func FlagKey(name string) (string, bool) {
	n := normalize(name)
	for _, f := range fields() {
		if normalize(f.key) == n {
			return f.key, true
		}
	}
	return "", false
}

func (c *Config) value(f field) reflect.Value {
	return reflect.ValueOf(c).Elem().FieldByIndex(f.index)
}

// setString parses s into the field (a list takes comma-separated items).
func (c *Config) setString(f field, s string) error {
	if f.typ.Kind() == reflect.Slice {
		var items []string
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				items = append(items, p)
			}
		}
		return c.setList(f, items)
	}
	v, err := parseScalar(f.typ, s)
	if err != nil {
		return err
	}
	c.value(f).Set(v)
	return nil
}

func (c *Config) setList(f field, items []string) error {
	if f.typ.Kind() != reflect.Slice {
		return fmt.Errorf("is a single value, not a list")
	}
	if items == nil {
		items = []string{}
	}
	c.value(f).Set(reflect.ValueOf(items))
	return nil
}

func parseScalar(t reflect.Type, s string) (reflect.Value, error) {
	switch {
	case t == durationType:
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return reflect.Value{}, fmt.Errorf("%q is not a duration (like 200ms, 1m, 6h)", s)
		}
		return reflect.ValueOf(d), nil
	case t == byteSizeType:
		b, err := ParseByteSize(s)
		return reflect.ValueOf(b), err
	case t == freeSpaceType:
		f, err := ParseFreeSpace(s)
		return reflect.ValueOf(f), err
	}
	switch t.Kind() {
	case reflect.String:
		return reflect.ValueOf(s), nil
	case reflect.Int:
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return reflect.Value{}, fmt.Errorf("%q is not an integer", s)
		}
		return reflect.ValueOf(n), nil
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return reflect.Value{}, fmt.Errorf("%q is not true or false", s)
		}
		return reflect.ValueOf(b), nil
	case reflect.Float64:
		x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return reflect.Value{}, fmt.Errorf("%q is not a number", s)
		}
		return reflect.ValueOf(x), nil
	}
	return reflect.Value{}, fmt.Errorf("unsupported type %s", t)
}

// render returns the value of f as a YAML/JSON friendly value: durations
// byte sizes and free-space thresholds as their strings, the rest as is.
func (c *Config) render(f field) any {
	v := c.value(f).Interface()
	switch x := v.(type) {
	case time.Duration:
		return x.String()
	case ByteSize:
		return x.String()
	case FreeSpace:
		return x.String()
	}
	return v
}
