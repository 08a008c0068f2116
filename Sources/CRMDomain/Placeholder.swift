enum _PlaceholderCRMDomain {}
