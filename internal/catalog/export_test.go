package catalog

import "context"

// PartnersSQL is the pairs' read, for EXPLAIN at scale.
const PartnersSQL = partnersSQL

// Setting is a server setting as the catalog's pooled sessions see it.
func (db *DB) Setting(ctx context.Context, name string) (string, error) {
	var v string
	err := db.pool.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&v)
	return v, err
}

// SessionParam is a startup parameter of the LISTEN session's config.
func (db *DB) SessionParam(name string) string { return db.session.RuntimeParams[name] }
