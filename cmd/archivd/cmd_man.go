package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

func newManCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "man DIR",
		Short: "Write man pages for archivd and every command into DIR",
		Long: `Write man pages (section 1) for archivd and each of its commands into DIR,
for packaging: 'archivd man /usr/share/man/man1'. Shell completion scripts
come from 'archivd completion bash|zsh|fish|powershell'.`,
		Args:        exactArgs(1, "a directory"),
		Annotations: map[string]string{skipConfig: "yes"},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runMan(cmd.Root(), a, args[0])
		},
	}
}

func runMan(root *cobra.Command, a *app, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("man: %w", err)
	}
	root.DisableAutoGenTag = true // reproducible pages: no generation date
	hdr := &doc.GenManHeader{Title: "ARCHIVD", Section: "1", Source: "archivd " + version, Manual: "archivd manual"}
	if err := doc.GenManTree(root, hdr, dir); err != nil {
		return fmt.Errorf("man: write pages into %s: %w", dir, err)
	}
	a.printf("man pages written to %s\n", dir)
	return nil
}
