docker history --format '{{.CreatedBy}}' busybox | head -3
