// Package migrations embeds the catalog schema, applied by tern.
package migrations

import "embed"

// FS holds the numbered SQL migrations (NNN_name.sql).
//
//go:embed *.sql
var FS embed.FS
