import { useRef } from 'react';
import { useNavigate } from 'react-router';
import { Button, Header, Menu, MenuItem, MenuSection, MenuTrigger, Popover, Separator } from 'react-aria-components';
import { entityPath } from '../lib/format';

/** The account menu: who is signed in, their catalog page, and Sign out. */
export function UserMenu({ username, displayName, admin, userRef }: { username: string; displayName: string; admin: boolean; userRef?: string }) {
  const form = useRef<HTMLFormElement>(null);
  const navigate = useNavigate();
  return (
    <>
      {/* Sign-out is the server's flow (POST /auth/logout, checked by Origin), then the provider's. */}
      <form ref={form} method="post" action="/auth/logout" hidden />
      <MenuTrigger>
        <Button className="user-button">
          <span className="visually-hidden">Account: </span>
          <span className="avatar" aria-hidden="true">
            {displayName.slice(0, 1).toUpperCase()}
          </span>
          <span className="user-name">{displayName}</span>
        </Button>
        <Popover className="popover" placement="bottom end">
          <Menu
            className="menu"
            onAction={(key) => {
              if (key === 'signout') form.current?.submit();
              if (key === 'profile' && userRef) {
                navigate(entityPath(userRef));
              }
            }}
          >
            <MenuSection>
              <Header className="menu-header">
                Signed in as <strong>{username}</strong>
                {admin ? ' (admin)' : ''}
              </Header>
              {userRef ? <MenuItem id="profile">My catalog page</MenuItem> : null}
            </MenuSection>
            <Separator />
            <MenuItem id="signout">Sign out</MenuItem>
          </Menu>
        </Popover>
      </MenuTrigger>
    </>
  );
}

