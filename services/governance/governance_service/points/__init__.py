"""The points supermarket (积分超市): points awarded to a household for civic acts, redeemed for goods."""
