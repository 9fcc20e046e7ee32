package main

import (
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time: go build -ldflags "-X main.version=v1.2.3".
var version = "dev"

type versionOptions struct {
	JSON bool
}

type versionInfo struct {
	Version  string `json:"version"`
	Go       string `json:"go"`
	Torrent  string `json:"anacrolix_torrent"`
	Revision string `json:"vcs_revision,omitempty"`
}

func newVersionCmd(a *app) *cobra.Command {
	var o versionOptions
	cmd := &cobra.Command{
		Use:         "version",
		Short:       "Print the version of archivd, Go and the torrent library",
		Args:        exactArgs(0, "no arguments"),
		Annotations: map[string]string{skipConfig: "1"},
		RunE:        func(cmd *cobra.Command, _ []string) error { return runVersion(a, o) },
	}
	jsonFlag(cmd, &o.JSON)
	return cmd
}

func buildVersions() versionInfo {
	v := versionInfo{Version: version, Go: runtime.Version(), Torrent: "unknown"}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	for _, d := range bi.Deps {
		if d.Path == "github.com/anacrolix/torrent" {
			v.Torrent = d.Version
			if d.Replace != nil {
				v.Torrent = d.Replace.Version
			}
		}
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			v.Revision = s.Value
		}
	}
	return v
}

func runVersion(a *app, o versionOptions) error {
	v := buildVersions()
	if o.JSON {
		return printJSON(a.stdout, v)
	}
	a.printf("archivd %s\ngo %s\nanacrolix/torrent %s\n", v.Version, v.Go, v.Torrent)
	if v.Revision != "" {
		a.printf("revision %s\n", v.Revision)
	}
	return nil
}
