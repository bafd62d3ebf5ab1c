"""An in-project YOLO detector (YOLOv8 recipe): CSP backbone, PAN neck, anchor-free decoupled head with DFL,
task-aligned assignment. Labels are 0..K-1 (no background class)."""
