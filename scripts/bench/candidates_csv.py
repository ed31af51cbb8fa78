#!/usr/bin/env python3
"""A CSV of N synthetic candidates for `clearance import candidates` (the demo's job titles).

  candidates_csv.py N > candidates.csv
"""
import sys

jobs = ["Senior Backend Engineer", "Frontend Engineer", "Data Analyst", "Site Reliability Engineer"]
n = int(sys.argv[1])
out = sys.stdout
out.write("first_name,last_name,email,phone,city,job,stage\n")
for i in range(1, n + 1):
    out.write(f"Imported,Person {i},imported{i}@example.com,+1 555 {i:07d},Springfield,{jobs[i % 4]},applied\n")
