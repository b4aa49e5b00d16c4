//! Annual reports and inspection (年检), the compliance calendar and the credit lists.
