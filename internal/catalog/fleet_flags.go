package catalog

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// FleetFlag is a fleet-wide operator flag, set with 'archivd fleet set'.
type FleetFlag string

const (
	FlagNoOut       FleetFlag = "noout"       // no down node is marked out automatically
	FlagNoRebalance FleetFlag = "norebalance" // placement does not move data for balance
	FlagNoRecover   FleetFlag = "norecover"   // replicas lost are not recreated
	FlagNoScrub     FleetFlag = "noscrub"     // scheduled scrubs do not start
)

// FleetFlags lists every flag there is, in the order they are shown.
var FleetFlags = []FleetFlag{FlagNoOut, FlagNoRebalance, FlagNoRecover, FlagNoScrub}

// ParseFleetFlag checks a flag's name; the error lists the flags there are.
func ParseFleetFlag(s string) (FleetFlag, error) {
	for _, f := range FleetFlags {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("%q is not a fleet flag (one of %s)", s, strings.Join(flagNames(), ", "))
}

func flagNames() []string {
	names := make([]string, len(FleetFlags))
	for i, f := range FleetFlags {
		names[i] = string(f)
	}
	return names
}

// FleetFlagSet is a flag that is set: when, by whom and why.
type FleetFlagSet struct {
	Flag   FleetFlag `json:"flag"`
	SetAt  time.Time `json:"set_at"`
	SetBy  string    `json:"set_by"`
	Reason string    `json:"reason"`
}

// SetFleetFlag sets flag; wasSet reports that it was set already (its row
// is left as it was).
func (db *DB) SetFleetFlag(ctx context.Context, flag FleetFlag, by, reason string) (wasSet bool, err error) {
	tag, err := db.pool.Exec(ctx, `INSERT INTO fleet_flags (flag, set_by, reason) VALUES ($1, $2, $3)
		ON CONFLICT (flag) DO NOTHING`, string(flag), by, reason)
	if err != nil {
		return false, fmt.Errorf("catalog: set fleet flag %s: %w", flag, err)
	}
	return tag.RowsAffected() == 0, nil
}

// UnsetFleetFlag clears flag; wasSet reports whether it was set.
func (db *DB) UnsetFleetFlag(ctx context.Context, flag FleetFlag) (wasSet bool, err error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM fleet_flags WHERE flag = $1`, string(flag))
	if err != nil {
		return false, fmt.Errorf("catalog: unset fleet flag %s: %w", flag, err)
	}
	return tag.RowsAffected() > 0, nil
}

// SetFleetFlags lists the flags that are set, in FleetFlags order.
func (db *DB) SetFleetFlags(ctx context.Context) ([]FleetFlagSet, error) {
	rows, err := db.pool.Query(ctx, `SELECT flag, set_at, set_by, reason FROM fleet_flags
		ORDER BY array_position($1::text[], flag)`, flagNames())
	if err != nil {
		return nil, fmt.Errorf("catalog: read fleet flags: %w", err)
	}
	fs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[FleetFlagSet])
	if err != nil {
		return nil, fmt.Errorf("catalog: read fleet flags: %w", err)
	}
	return fs, nil
}

// FleetFlagIsSet reports whether flag is set.
func (db *DB) FleetFlagIsSet(ctx context.Context, flag FleetFlag) (bool, error) {
	var set bool
	if err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM fleet_flags WHERE flag = $1)`, string(flag)).Scan(&set); err != nil {
		return false, fmt.Errorf("catalog: read fleet flag %s: %w", flag, err)
	}
	return set, nil
}
