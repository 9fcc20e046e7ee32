package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// HealthConfig holds the thresholds of the health checks.
type HealthConfig struct {
	// LowSpace: a file system holding data roots with less free space
	// than this raises DATA_ROOT_LOW_SPACE (WARN).
	LowSpace FreeSpace `key:"low_space"`
	// FullSpace: less free space than this raises DISK_FULL (ERR).
	FullSpace FreeSpace `key:"full_space"`
}

func defaultHealth() HealthConfig {
	return HealthConfig{LowSpace: FreeSpace{Percent: 10, IsPercent: true}, FullSpace: FreeSpace{Percent: 1, IsPercent: true}}
}

// FreeSpace is a free-space threshold: a share of the file system ("10%")
// or a size ("500GiB"). 0 (or 0%) is never crossed: the check is off.
type FreeSpace struct {
	Percent   float64  // with IsPercent: 10 for "10%"
	Bytes     ByteSize // without IsPercent
	IsPercent bool
}

var freeSpaceType = reflect.TypeOf(FreeSpace{})

// ParseFreeSpace parses "10%", "0.5%", "500GiB", "1TB" or "0". A number
// without a unit is refused (10 bytes is rarely what "10" means).
func ParseFreeSpace(s string) (FreeSpace, error) {
	t := strings.TrimSpace(s)
	if num, ok := strings.CutSuffix(t, "%"); ok {
		num = strings.TrimSpace(num)
		p, err := strconv.ParseFloat(num, 64)
		if num == "" || strings.Trim(num, "0123456789.") != "" || err != nil {
			return FreeSpace{}, fmt.Errorf("%q is not a percentage (like 10%% or 0.5%%)", s)
		}
		if p > 100 {
			return FreeSpace{}, fmt.Errorf("%q is over 100%%", s)
		}
		return FreeSpace{Percent: p, IsPercent: true}, nil
	}
	b, err := ParseByteSize(t)
	if err != nil {
		return FreeSpace{}, fmt.Errorf("%q is not a percentage or a byte size (like 10%%, 500GiB; 0 = off)", s)
	}
	if b != 0 && strings.Trim(t, "0123456789.") == "" {
		return FreeSpace{}, fmt.Errorf("%q has no unit: write %s%% or %sGiB (0 = off)", s, t, t)
	}
	return FreeSpace{Bytes: b}, nil
}

// String renders the threshold as ParseFreeSpace reads it.
func (f FreeSpace) String() string {
	if f.IsPercent {
		return strconv.FormatFloat(f.Percent, 'f', -1, 64) + "%"
	}
	return f.Bytes.String()
}

// Off reports whether no free space is below the threshold.
func (f FreeSpace) Off() bool {
	if f.IsPercent {
		return f.Percent <= 0
	}
	return f.Bytes <= 0
}

// Below reports whether avail bytes free of a file system of size bytes
// is below the threshold.
func (f FreeSpace) Below(avail, size uint64) bool {
	if f.IsPercent {
		return size > 0 && float64(avail) < f.Percent/100*float64(size)
	}
	return f.Bytes > 0 && avail < uint64(f.Bytes)
}

// MarshalText renders the threshold like String, so YAML and JSON stay
// readable.
func (f FreeSpace) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// UnmarshalText parses the threshold like ParseFreeSpace.
func (f *FreeSpace) UnmarshalText(p []byte) error {
	v, err := ParseFreeSpace(string(p))
	if err != nil {
		return err
	}
	*f = v
	return nil
}

func (c *Config) validateHealth() error {
	h := c.Health
	for _, t := range []struct {
		key string
		v   FreeSpace
	}{{"health.low_space", h.LowSpace}, {"health.full_space", h.FullSpace}} {
		if t.v.Percent < 0 || t.v.Percent > 100 || t.v.Bytes < 0 || (t.v.IsPercent && t.v.Bytes != 0) {
			return errorf("%s: %s is not a percentage (0-100%%) or a byte size", t.key, t.v)
		}
	}
	// A full file system is also low: the thresholds of one kind must
	// nest, or DISK_FULL would be raised before DATA_ROOT_LOW_SPACE.
	if h.LowSpace.IsPercent == h.FullSpace.IsPercent && !h.LowSpace.Off() && !h.FullSpace.Off() &&
		h.FullSpace.Percent >= h.LowSpace.Percent && h.FullSpace.Bytes >= h.LowSpace.Bytes {
		return errorf("health.full_space: %s is not below health.low_space (%s)", h.FullSpace, h.LowSpace)
	}
	return nil
}
