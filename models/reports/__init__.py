"""Reports over orders and money: receivables and their aging, the cost variance report."""
