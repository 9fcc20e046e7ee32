// Package human formats numbers for people: the CLI's tables and the status
// page show sizes the same way.
package human

import "fmt"

// Bytes renders n with a binary unit and one decimal (1.5 GiB); below
// 1 KiB it is an exact count (512 B).
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
