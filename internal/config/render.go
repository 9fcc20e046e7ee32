package config

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// Map returns the configuration as nested maps keyed like the file, with
// durations and byte sizes as strings (for JSON output).
func (c *Config) Map() map[string]any {
	out := map[string]any{}
	for _, f := range fields() {
		m := out
		parts := strings.Split(f.key, ".")
		for _, p := range parts[:len(parts)-1] {
			if _, ok := m[p]; !ok {
				m[p] = map[string]any{}
			}
			m = m[p].(map[string]any)
		}
		m[parts[len(parts)-1]] = c.render(f)
	}
	out[collectionsKey] = c.collectionsOrEmpty()
	return out
}

// YAML renders the configuration as a YAML file in declaration order, fit
// to be loaded again.
func (c *Config) YAML() ([]byte, error) {
	root := &yaml.Node{Kind: yaml.MappingNode}
	sections := map[string]*yaml.Node{}
	for _, f := range fields() {
		parent, name := root, f.key
		if sec, leaf, ok := strings.Cut(f.key, "."); ok {
			if sections[sec] == nil {
				sections[sec] = &yaml.Node{Kind: yaml.MappingNode}
				root.Content = append(root.Content, scalar(sec), sections[sec])
			}
			parent, name = sections[sec], leaf
		}
		var v yaml.Node
		if err := v.Encode(c.render(f)); err != nil {
			return nil, err
		}
		parent.Content = append(parent.Content, scalar(name), &v)
	}
	var cs yaml.Node
	if err := cs.Encode(c.collectionsOrEmpty()); err != nil {
		return nil, err
	}
	root.Content = append(root.Content, scalar(collectionsKey), &cs)
	return yaml.Marshal(root)
}

func scalar(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: s} }

func (c *Config) collectionsOrEmpty() []CollectionConfig {
	if c.Collections == nil {
		return []CollectionConfig{}
	}
	return c.Collections
}
