package main

import (
	"context"
	"fmt"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/human"
	"github.com/archivd/archivd/internal/verify"
	"github.com/spf13/cobra"
)

type verifyOptions struct {
	Collections []string
	Wait        bool
	Offline     bool
	Timeout     time.Duration
	JSON        bool
}

func newVerifyCmd(a *app) *cobra.Command {
	var o verifyOptions
	cmd := &cobra.Command{
		Use:   "verify [TORRENT...]",
		Short: "Re-hash torrents now: ask the daemon for a run, or run offline",
		Long: `Re-hash the data of torrents (all of them, those of --collection, or the
named ones) and record findings: hash mismatch, missing file, short file,
unreadable data.

By default the run is queued for the running daemon ('archivd serve'),
which hashes and repairs bad pieces from the swarm; --wait follows it to the
end. --offline hashes in this process instead (no daemon needed; no repair),
with a progress bar on a terminal. 'archivd report' renders the result.

With --wait or --offline the exit code is 6 when the run found damage that
is not repaired.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			return runVerify(cmd.Context(), a, o, args)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.Collections, "collection", "c", nil, "verify this collection (repeatable)")
	f.BoolVar(&o.Wait, "wait", false, "wait for the daemon to finish the run")
	f.BoolVar(&o.Offline, "offline", false, "hash in this process instead of the daemon")
	f.DurationVar(&o.Timeout, "timeout", 0, "with --wait: give up after this long (0 = no limit)")
	f.BoolVar(&o.JSON, "json", false, "print the run as JSON")
	cmd.AddCommand(newVerifyStatusCmd(a))
	cmd.AddCommand(newVerifyControlCmds(a)...)
	return cmd
}

// validate refuses contradictory flags before anything is queued or read.
func (o verifyOptions) validate() error {
	switch {
	case o.Offline && o.Wait:
		return usageErrorf("verify: --offline runs here and --wait waits for the daemon: choose one")
	case o.Timeout < 0:
		return usageErrorf("verify: --timeout %s: want a duration >= 0", o.Timeout)
	case o.Timeout > 0 && !o.Wait:
		return usageErrorf("verify: --timeout limits --wait; add --wait or drop --timeout")
	}
	return nil
}

func runVerify(ctx context.Context, a *app, o verifyOptions, refs []string) error {
	scope := verify.Scope{Collections: o.Collections, Torrents: refs}
	return a.withCatalog(ctx, "verify", func(db *catalog.DB) error {
		var id int64
		var err error
		if o.Offline {
			update, finish := hashProgress(ctx, a, "verify")
			id, err = verify.RunOffline(ctx, db, verify.ConfigFrom(a.cfg, a.log), scope, update)
			finish()
		} else {
			if o.Wait {
				// A name that is wrong is the error to fix first: a
				// daemon started for it would only refuse it then.
				if err := verify.CheckScope(ctx, db, scope); err != nil {
					return fmt.Errorf("verify: %w", err)
				}
				if err := requireLiveDaemon(ctx, db); err != nil {
					return fmt.Errorf("verify --wait: %w", err)
				}
			}
			id, err = verify.RequestRun(ctx, db, catalog.RunManual, scope)
			if err == nil && !o.Wait {
				if o.JSON {
					return printJSON(a.stdout, map[string]int64{"run": id})
				}
				a.printf("queued verify run %d; follow it with 'archivd verify status' or 'archivd report %d'\n", id, id)
				return nil
			}
			if err == nil {
				err = waitRun(ctx, db, id, o.Timeout)
			}
		}
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		return finishedRun(ctx, a, db, id, o.JSON)
	})
}

// waitRun polls the run until it is finished (the daemon does the work).
func waitRun(ctx context.Context, db *catalog.DB, id int64, timeout time.Duration) error {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	lastLive := time.Now()
	for {
		run, err := db.VerifyRunByID(ctx, id)
		if err != nil {
			return err
		}
		if run.State.Finished() {
			return nil
		}
		if time.Since(lastLive) > catalog.NodeHeartbeat {
			if err := requireLiveDaemon(ctx, db); err != nil {
				return fmt.Errorf("run %d stays %s: %w", id, run.State, err)
			}
			lastLive = time.Now()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for run %d (%s; is 'archivd serve' running?): %w", id, run.State, ctx.Err())
		case <-t.C:
		}
	}
}

// requireLiveDaemon fails when no daemon is live (daemonLive): nothing
// would work a queued run.
func requireLiveDaemon(ctx context.Context, db *catalog.DB) error {
	live, err := daemonLive(ctx, db)
	if err != nil {
		return err
	}
	if !live {
		return fmt.Errorf("no archivd serve is running on this catalog (no node seen in the last %s): start 'archivd serve', or verify here with 'archivd verify --offline'", catalog.NodeLiveTTL)
	}
	return nil
}

// daemonLive says whether an `archivd serve` has recorded itself live in
// the catalog within catalog.NodeLiveTTL.
func daemonLive(ctx context.Context, db *catalog.DB) (bool, error) {
	nodes, err := db.LiveNodes(ctx, catalog.NodeLiveTTL)
	return len(nodes) > 0, err
}

// finishedRun prints the run's outcome; damage left unrepaired is exit 6.
func finishedRun(ctx context.Context, a *app, db *catalog.DB, id int64, asJSON bool) error {
	rep, err := verify.LoadReport(ctx, db, id)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	r := rep.Run
	if asJSON {
		if err := printJSON(a.stdout, rep); err != nil {
			return err
		}
	} else {
		a.printf("run %d %s: %s hashed, %d pieces checked, %d failed, %d repaired\n", r.ID, r.State,
			human.Bytes(r.BytesHashed), r.PiecesChecked, r.PiecesFailed, r.PiecesRepaired)
	}
	if r.State == catalog.RunFailed {
		return fmt.Errorf("verify: run %d failed: %s", r.ID, r.Error)
	}
	if open := r.PiecesFailed - r.PiecesRepaired; open > 0 {
		return withCode(exitDamage, fmt.Errorf("verify: run %d found %d damaged pieces not repaired: see 'archivd report %d'", r.ID, open, r.ID))
	}
	return nil
}
