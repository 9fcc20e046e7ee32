// Package domain holds the catalog's rules that need no database, so that
// config validation and the CLI can apply them without importing pgx.
package domain

import "regexp"

// collectionNameRe mirrors the CHECK on collections.name in
// migrations/001_catalog.sql: the name is also a directory name, so it
// cannot be "." or "..".
var collectionNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// CollectionNameRule says in words what ValidCollectionName accepts.
const CollectionNameRule = "use letters, digits, '.', '_', '-' (starting with a letter or digit, at most 128)"

// ValidCollectionName reports whether name may name a collection.
func ValidCollectionName(name string) bool { return collectionNameRe.MatchString(name) }
