"""What the user reads: counts and sizes, a setting named as its caller names it, figure file names, bars."""
