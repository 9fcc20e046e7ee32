package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/spf13/cobra"
)

// newListingCmd is a read command named "list" (alias "ls") with --json
// into asJSON; callers may add flags. run gets the command's context.
func newListingCmd(short, argsHint string, asJSON *bool, run func(ctx context.Context) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   short,
		Args:    exactArgs(0, argsHint),
		RunE:    func(cmd *cobra.Command, _ []string) error { return run(cmd.Context()) },
	}
	jsonFlag(cmd, asJSON)
	return cmd
}

// newOneArgCmd is a command of one argument, stored into *arg before run;
// callers add its flags.
func newOneArgCmd(use, short, argsHint string, arg *string, run func(ctx context.Context) error) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  exactArgs(1, argsHint),
		RunE: func(cmd *cobra.Command, args []string) error {
			*arg = args[0]
			return run(cmd.Context())
		},
	}
}

// jsonFlag adds --json to a read command.
func jsonFlag(cmd *cobra.Command, asJSON *bool) {
	cmd.Flags().BoolVar(asJSON, "json", false, "print JSON")
}

// showOne is the body of a read command about one thing: load it from
// the catalog (load's error is the command's), then print it as JSON or
// as text.
func showOne[T any](ctx context.Context, a *app, what string, asJSON bool, load func(db *catalog.DB) (T, error), text func(T)) error {
	return a.withCatalog(ctx, what, func(db *catalog.DB) error {
		v, err := load(db)
		if err != nil {
			return err
		}
		if asJSON {
			return printJSON(a.stdout, v)
		}
		text(v)
		return nil
	})
}

// printList prints items as a JSON array ([] when there are none) or as a
// table: header, then one row a item.
func printList[T any](w io.Writer, asJSON bool, items []T, header string, row func(T) string) error {
	if asJSON {
		if items == nil {
			items = []T{}
		}
		return printJSON(w, items)
	}
	rows := make([]string, len(items))
	for i, it := range items {
		rows[i] = row(it)
	}
	return table(w, header, rows)
}

// printJSON writes v as indented JSON: the --json output of read commands.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

// table writes tab-separated rows aligned in columns.
func table(w io.Writer, header string, rows []string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		fmt.Fprintln(tw, r)
	}
	return tw.Flush()
}

// orDash shows empty strings as "-" so table columns stay aligned.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
