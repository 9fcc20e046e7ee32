package config

import "reflect"

// Changed lists the keys whose values differ between a and b, in
// declaration order (collections, which are not keys, aside).
func Changed(a, b *Config) []string {
	va, vb := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	var out []string
	for _, f := range fields() {
		if !reflect.DeepEqual(va.FieldByIndex(f.index).Interface(), vb.FieldByIndex(f.index).Interface()) {
			out = append(out, f.key)
		}
	}
	return out
}
