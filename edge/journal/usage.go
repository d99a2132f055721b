package journal

import (
	"os"
	"path/filepath"
	"time"
)

// Disk usage is measured by summing the space the files of the Badger
// directory take on disk (allocated blocks, not apparent sizes: Badger
// preallocates its WAL and value log files as sparse files of twice their
// nominal size). Walking a dozen files costs microseconds, but the writer
// does it at most once a second; between measures it adds the bytes each
// batch wrote, so the budget is enforced at once and never overshot by much.
const measureEvery = time.Second

// DiskUsage returns the bytes the journal takes on disk, as last estimated.
func (j *Journal) DiskUsage() int64 { return j.usage.Load() }

// DiskBudget returns the configured disk budget in bytes, 0 for none.
func (j *Journal) DiskBudget() int64 { return j.cfg.DiskBudgetBytes }

// measure sets the usage to what the directory takes on disk now.
func (j *Journal) measure() {
	j.usage.Store(dirUsage(j.dir))
	j.measuredAt = time.Now()
}

// afterWrite updates the usage estimate after a round of the writer.
func (j *Journal) afterWrite(b *batch) {
	if b != nil {
		j.usage.Add(b.bytes)
	}
	if time.Since(j.measuredAt) >= measureEvery {
		// The estimate counts bytes before compression and before
		// compaction drops overwritten versions; the measure replaces it.
		j.measure()
	}
}

// dirUsage returns the disk space taken by the files directly in dir.
func dirUsage(dir string) int64 {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var total int64
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		fi, err := os.Stat(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // a table removed by compaction meanwhile
		}
		total += allocated(fi)
	}
	return total
}
