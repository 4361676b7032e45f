package main

import (
	"fmt"
	"io"
	"os"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// isTerminal reports whether out is a terminal (colour and progress bars
// only there; pipes and files get plain lines).
func isTerminal(out io.Writer) bool {
	f, ok := out.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress shows how many items a long command has done: a progress bar
// (a spinner with a count, as the total is not known ahead) on a
// terminal, one line per step elsewhere.
type progress struct {
	out   io.Writer
	desc  string
	bar   *progressbar.ProgressBar
	count int
}

func newProgress(out io.Writer, desc string) *progress {
	p := &progress{out: out, desc: desc}
	if isTerminal(out) {
		p.bar = progressbar.NewOptions(-1, progressbar.OptionSetWriter(out), progressbar.OptionSetDescription(desc+": enqueued"),
			progressbar.OptionShowCount(), progressbar.OptionSpinnerType(14), progressbar.OptionSetItsString("records"),
			progressbar.OptionShowIts(), progressbar.OptionClearOnFinish())
	}
	return p
}

func (p *progress) add(n int) {
	p.count += n
	if p.bar != nil {
		_ = p.bar.Add(n)
		return
	}
	fmt.Fprintf(p.out, "%s: %d enqueued\n", p.desc, p.count)
}

func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
