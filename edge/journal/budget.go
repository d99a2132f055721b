package journal

// WarnFraction is the share of the disk budget from which DiskWarning is
// on: deposits are still taken, but the operator should act before the
// journal refuses them with STORAGE_FULL.
const WarnFraction = 0.8

// DiskWarning reports whether the journal uses at least WarnFraction of its
// disk budget (never with no budget).
func (j *Journal) DiskWarning() bool {
	budget := j.cfg.DiskBudgetBytes
	return budget > 0 && float64(j.usage.Load()) >= WarnFraction*float64(budget)
}
