package pgstore

// ScanReportRows reads report rows, for tests that compare the reports
// with another query of the same columns.
var ScanReportRows = scanReportRows

// OpenAt opens a store migrated up to version upTo only.
var OpenAt = open
