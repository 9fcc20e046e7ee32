package config

import "time"

// FleetConfig is what the fleet planner goes by (issue 12: placement and
// recovery). The node leading the planner applies its own; give every
// node the same.
type FleetConfig struct {
	// DownOutInterval: a node down this long is marked out: its replicas
	// stop counting and are placed on other nodes.
	DownOutInterval time.Duration `key:"down_out_interval"`
	// OutMaxShare: the mass-failure guard never marks out automatically
	// more than this share of the nodes (nor a zone's last node up).
	OutMaxShare float64 `key:"out_max_share"`
	// PlanInterval between planner passes (and placed replicas settled);
	// the planner's lease lasts three of them.
	PlanInterval time.Duration `key:"plan_interval"`
	// MaxRecoveriesPerNode: the planner places at most this many replicas
	// still fetching on one node at a time; 0 = no bound.
	MaxRecoveriesPerNode int `key:"max_recoveries_per_node"`
	// BalanceMargin: the rebalance moves replicas to a node holding less
	// than (1 - margin) of its share of the replica bytes, never taking a
	// source below that nor a target above (1 + margin) of its share.
	BalanceMargin float64 `key:"balance_margin"`
	// RecoveryRate bounds, on this node, the bytes per second written to
	// the replicas the planner placed on it (their download); 0 =
	// unlimited. network.download_rate still bounds every download.
	RecoveryRate ByteSize `key:"recovery_rate"`
	// RecoverySendRate bounds, on this node, the bytes per second read for
	// peers from the torrents other nodes are recovering (a replica the
	// planner placed there, not complete yet), all together; 0 =
	// unlimited. Per torrent, not per peer: see docs/OPERATIONS.md.
	// network.upload_rate still bounds every upload.
	RecoverySendRate ByteSize `key:"recovery_send_rate"`
	// RecoveryStallAfter: a replica the planner placed (a recovery or a
	// rebalance move) that is not complete and whose pieces complete have
	// not grown for this long is stalled: it stays placed but no longer
	// takes one of its node's max_recoveries_per_node, nor holds the
	// rebalance; it counts again once it makes progress. 0 = never.
	RecoveryStallAfter time.Duration `key:"recovery_stall_after"`
}

func defaultFleet() FleetConfig {
	return FleetConfig{DownOutInterval: 10 * time.Minute, OutMaxShare: 0.25, PlanInterval: 10 * time.Second,
		MaxRecoveriesPerNode: 4, BalanceMargin: 0.1, RecoveryStallAfter: 10 * time.Minute}
}

func (c *Config) validateFleet() error {
	f := c.Fleet
	switch {
	case f.DownOutInterval < time.Second:
		return errorf("fleet.down_out_interval: %v is under a second", f.DownOutInterval)
	case !(f.OutMaxShare > 0 && f.OutMaxShare <= 1):
		return errorf("fleet.out_max_share: %v is not above 0 and at most 1", f.OutMaxShare)
	case f.PlanInterval < 100*time.Millisecond || f.PlanInterval > time.Hour:
		return errorf("fleet.plan_interval: %v is not between 100ms and 1h", f.PlanInterval)
	case f.MaxRecoveriesPerNode < 0:
		return errorf("fleet.max_recoveries_per_node: %d must not be negative", f.MaxRecoveriesPerNode)
	case !(f.BalanceMargin >= 0.01 && f.BalanceMargin <= 0.5):
		return errorf("fleet.balance_margin: %v is not between 0.01 and 0.5", f.BalanceMargin)
	case f.RecoveryRate < 0:
		return errorf("fleet.recovery_rate: %d must not be negative", f.RecoveryRate)
	case f.RecoverySendRate < 0:
		return errorf("fleet.recovery_send_rate: %d must not be negative", f.RecoverySendRate)
	case f.RecoveryStallAfter != 0 && f.RecoveryStallAfter < time.Second:
		return errorf("fleet.recovery_stall_after: %v is under a second (0 = never stalled)", f.RecoveryStallAfter)
	}
	return nil
}
