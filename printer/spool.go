package printer

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/comptoir/comptoir/edge"
)

// Spool writes each job to a file of its own in Dir, DIR/<job id>.<ext>, for
// a print server to pick up, for tests, and for terminals without a printer.
// Files appear whole or not at all (temporary file, fsync, rename), and
// printing a job again replaces its file, so a retried job is never
// duplicated.
type Spool struct {
	Dir string
	// Ext is the file extension; by default it is guessed from the data:
	// "zpl" for ZPL, "escpos" for ESC/POS, "bin" otherwise.
	Ext string
}

// Print writes data to Dir/<jobID>.<ext>, creating Dir (mode 0700) when
// needed. It returns EINVALID for a job id that is not a plain file name.
func (s *Spool) Print(ctx context.Context, jobID string, data []byte) error {
	if !validName(jobID) {
		return edge.Errorf(edge.EINVALID, "print spool: job id %q is not a file name", jobID)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("print spool: %w", err)
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return fmt.Errorf("print spool: %w", err)
	}
	ext := s.Ext
	if ext == "" {
		ext = sniffExt(data)
	}
	if err := writeFileAtomic(filepath.Join(s.Dir, jobID+"."+ext), data); err != nil {
		return fmt.Errorf("print spool: %w", err)
	}
	return nil
}

// Path returns the file that job jobID is written to when its data is data.
func (s *Spool) Path(jobID string, data []byte) string {
	ext := s.Ext
	if ext == "" {
		ext = sniffExt(data)
	}
	return filepath.Join(s.Dir, jobID+"."+ext)
}

// sniffExt names the format of printer bytes.
func sniffExt(data []byte) string {
	t := bytes.TrimLeft(data, " \t\r\n")
	switch {
	case bytes.HasPrefix(t, []byte("^XA")) || bytes.HasPrefix(t, []byte("~")):
		return edge.FormatZPL
	case bytes.HasPrefix(data, []byte{esc, '@'}):
		return edge.FormatESCPOS
	}
	return "bin"
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory, synced before it is renamed over path; the directory is synced
// after, so the new name survives a power cut.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
