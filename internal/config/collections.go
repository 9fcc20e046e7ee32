package config

import (
	"bytes"
	"fmt"
	"path/filepath"

	"github.com/archivd/archivd/internal/catalog/domain"
	"go.yaml.in/yaml/v3"
)

// CollectionConfig declares a collection that the daemon reconciles into
// the catalog at start and on SIGHUP (created or updated, new .torrent
// files of TorrentDir imported). Collections created with the CLI are left
// alone.
type CollectionConfig struct {
	Name        string   `yaml:"name" json:"name"`
	Description string   `yaml:"description" json:"description"`
	DataRoot    string   `yaml:"data_root" json:"data_root"`     // "" = data_dir/<name>
	TorrentDir  string   `yaml:"torrent_dir" json:"torrent_dir"` // "" = none; *.torrent in it are imported
	WebSeeds    []string `yaml:"web_seeds" json:"web_seeds"`     // added to every torrent of the collection
	// Verify overrides verify.interval and verify.mass_failure_ratio for
	// this collection; stored in the catalog as its verify_policy.
	Verify map[string]string `yaml:"verify" json:"verify,omitempty"`
	// ReplicasMin and ReplicasMax: copies on distinct nodes of a shared
	// catalog each torrent keeps (0 = 1; a max under the min = the min).
	ReplicasMin int `yaml:"replicas_min" json:"replicas_min,omitempty"`
	ReplicasMax int `yaml:"replicas_max" json:"replicas_max,omitempty"`
}

// collectionsKey is the one key whose value is a list of mappings; it is
// kept out of the flat key set (no environment variable or flag sets it).
const collectionsKey = "collections"

// verifyOverrideKeys are the verify settings a collection may override.
var verifyOverrideKeys = map[string]bool{"interval": true, "mass_failure_ratio": true}

func (c *Config) applyCollections(path string, v *yaml.Node) error {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		c.Collections = nil
		return nil
	}
	if v.Kind != yaml.SequenceNode {
		return errorf("%s:%d: collections must be a list of collections (- name: ...)", path, v.Line)
	}
	var out []CollectionConfig
	for _, item := range v.Content {
		var cc CollectionConfig
		if err := decodeStrict(item, &cc); err != nil {
			return errorf("%s:%d: collections: %s", path, item.Line, oneLine(err.Error()))
		}
		out = append(out, cc)
	}
	c.Collections = out
	return nil
}

// decodeStrict decodes a node, refusing keys the struct does not have.
func decodeStrict(n *yaml.Node, v any) error {
	b, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	return dec.Decode(v)
}

func (c *Config) validateCollections() error {
	seen := map[string]bool{}
	for i, cc := range c.Collections {
		at := fmt.Sprintf("collections[%d]", i)
		if !domain.ValidCollectionName(cc.Name) {
			return errorf("%s.name: %q is not a collection name: %s", at, cc.Name, domain.CollectionNameRule)
		}
		if seen[cc.Name] {
			return errorf("%s.name: %q is declared twice", at, cc.Name)
		}
		seen[cc.Name] = true
		if cc.DataRoot != "" && !filepath.IsAbs(cc.DataRoot) {
			return errorf("%s.data_root: %q must be an absolute path", at, cc.DataRoot)
		}
		if cc.TorrentDir != "" && !filepath.IsAbs(cc.TorrentDir) {
			return errorf("%s.torrent_dir: %q must be an absolute path", at, cc.TorrentDir)
		}
		if cc.ReplicasMin < 0 || cc.ReplicasMax < 0 {
			return errorf("%s: replicas_min %d / replicas_max %d: must be at least 1 (0 = 1)", at, cc.ReplicasMin, cc.ReplicasMax)
		}
		if cc.ReplicasMax > 0 && cc.ReplicasMin > cc.ReplicasMax {
			return errorf("%s.replicas_min: %d is above replicas_max %d", at, cc.ReplicasMin, cc.ReplicasMax)
		}
		for k, v := range cc.Verify {
			if !verifyOverrideKeys[k] {
				return errorf("%s.verify: %q cannot be overridden per collection (interval, mass_failure_ratio)", at, k)
			}
			if err := checkVerifyOverride(k, v); err != nil {
				return errorf("%s.verify.%s: %q %v", at, k, v, err)
			}
		}
	}
	return nil
}

func checkVerifyOverride(k, v string) error {
	t := Default()
	f, _ := fieldByKey("verify." + k)
	return t.setString(f, v)
}
