// Package migrations embeds the catalog schema, applied by tern.
package migrations

import (
	"embed"
	"io/fs"
)

// FS holds the numbered SQL migrations (NNN_name.sql).
//
//go:embed *.sql
var FS embed.FS

// Latest is the schema version after every migration: the number of files.
func Latest() int {
	names, err := fs.Glob(FS, "*.sql")
	if err != nil {
		panic(err) // only a malformed pattern fails
	}
	return len(names)
}
