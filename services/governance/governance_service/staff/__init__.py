"""Staffing (网格力量): grid workers to grids, building heads to buildings, community cadres and
the party secretary to communities, county and city officers above; and who acts (Actor)."""
