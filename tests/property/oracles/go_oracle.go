// Reads "a<TAB>b" lines and prints golang.org/x/mod/semver.Compare(a, b), or INVALID.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"golang.org/x/mod/semver"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	for in.Scan() {
		parts := strings.SplitN(in.Text(), "\t", 2)
		if len(parts) != 2 || !semver.IsValid(parts[0]) || !semver.IsValid(parts[1]) {
			fmt.Fprintln(out, "INVALID")
		} else {
			fmt.Fprintln(out, semver.Compare(parts[0], parts[1]))
		}
		out.Flush()
	}
}
