// Command archivd is an archival BitTorrent seeding server with a
// PostgreSQL catalog. main only hands the arguments to run and exits with
// the code it returns.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
