package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/spf13/cobra"
)

// replicaFlags are --replicas-min and --replicas-max of the commands that
// set a replica policy; a flag not given leaves its value as it is.
type replicaFlags struct {
	Min, Max int
	cmd      *cobra.Command
}

func (r *replicaFlags) add(cmd *cobra.Command) {
	r.cmd = cmd
	cmd.Flags().IntVar(&r.Min, "replicas-min", 0, "copies on distinct nodes the planner keeps (at least 1)")
	cmd.Flags().IntVar(&r.Max, "replicas-max", 0, "copies placement may keep at most (at least replicas-min)")
}

// given reports a flag given on the command line (without a command, as
// in tests calling run functions: a value other than 0).
func (r *replicaFlags) given(name string, v int) bool {
	if r.cmd == nil {
		return v != 0
	}
	return r.cmd.Flags().Changed(name)
}

// policy checks the flags given; none given is an empty policy.
func (r *replicaFlags) policy(what string) (catalog.ReplicaPolicy, error) {
	var p catalog.ReplicaPolicy
	if r.given("replicas-min", r.Min) {
		if r.Min < 1 {
			return p, usageErrorf("%s: --replicas-min %d: must be at least 1", what, r.Min)
		}
		p.Min = &r.Min
	}
	if r.given("replicas-max", r.Max) {
		if r.Max < 1 {
			return p, usageErrorf("%s: --replicas-max %d: must be at least 1", what, r.Max)
		}
		p.Max = &r.Max
	}
	if p.Min != nil && p.Max != nil && *p.Min > *p.Max {
		return p, usageErrorf("%s: --replicas-min %d is above --replicas-max %d", what, *p.Min, *p.Max)
	}
	return p, nil
}

// replicasError turns the catalog's refusal of a policy into a usage error.
func replicasError(what string, err error) error {
	if errors.Is(err, catalog.ErrBadReplicas) {
		return usageErrorf("%s: %v", what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

type collectionReplicasOptions struct {
	Name     string
	Replicas replicaFlags
}

func newCollectionReplicasCmd(a *app) *cobra.Command {
	var o collectionReplicasOptions
	cmd := &cobra.Command{
		Use:   "replicas NAME [--replicas-min N] [--replicas-max M]",
		Short: "Show or set how many copies on distinct nodes a collection's torrents keep",
		Args:  exactArgs(1, "a collection NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			return runCollectionReplicas(cmd.Context(), a, o)
		},
	}
	o.Replicas.add(cmd)
	return cmd
}

func runCollectionReplicas(ctx context.Context, a *app, o collectionReplicasOptions) error {
	what := "collection replicas " + o.Name
	p, err := o.Replicas.policy(what)
	if err != nil {
		return err
	}
	return a.withCatalog(ctx, "collection replicas", func(db *catalog.DB) error {
		if p.Min != nil || p.Max != nil {
			if err := db.SetCollectionReplicas(ctx, o.Name, p); err != nil {
				return replicasError(what, err)
			}
		}
		c, err := db.Collection(ctx, o.Name)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		a.printf("collection %s: replicas min %d, max %d\n", c.Name, c.ReplicasMin, c.ReplicasMax)
		return nil
	})
}

type replicasOptions struct {
	Refs     []string
	Replicas replicaFlags
	Inherit  bool
}

func newReplicasCmd(a *app) *cobra.Command {
	var o replicasOptions
	cmd := &cobra.Command{
		Use:   "replicas NAME|INFOHASH... (--replicas-min N | --replicas-max M | --inherit)",
		Short: "Override how many copies on distinct nodes torrents keep (default: their collection's)",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf("replicas: want at least one torrent NAME or INFOHASH")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Refs = args
			return runReplicas(cmd.Context(), a, o)
		},
	}
	o.Replicas.add(cmd)
	cmd.Flags().BoolVar(&o.Inherit, "inherit", false, "drop the override: the collection's replicas_min and replicas_max apply")
	return cmd
}

func runReplicas(ctx context.Context, a *app, o replicasOptions) error {
	p, err := o.Replicas.policy("replicas")
	if err != nil {
		return err
	}
	p.Inherit = o.Inherit
	switch {
	case o.Inherit && (p.Min != nil || p.Max != nil):
		return usageErrorf("replicas: --inherit goes alone, without --replicas-min or --replicas-max")
	case !o.Inherit && p.Min == nil && p.Max == nil:
		return usageErrorf("replicas: give --replicas-min, --replicas-max or --inherit")
	}
	return a.withCatalog(ctx, "replicas", func(db *catalog.DB) error {
		ts, err := resolveRefs(ctx, db, o.Refs, "")
		if err != nil {
			return fmt.Errorf("replicas: %w", err)
		}
		for _, t := range ts {
			if err := db.SetTorrentReplicas(ctx, t.ID, p); err != nil {
				return replicasError("replicas "+t.Name, err)
			}
			e, err := db.TorrentReplicas(ctx, t.ID)
			if err != nil {
				return fmt.Errorf("replicas %s: %w", t.Name, err)
			}
			from := "its collection's"
			if e.Own {
				from = "its own"
			}
			a.printf("%s %s: replicas min %d, max %d (%s)\n", t.Name, shortHash(t), e.Min, e.Max, from)
		}
		return nil
	})
}
