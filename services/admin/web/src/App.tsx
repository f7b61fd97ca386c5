/** The console: the login page without a session, else the page the hash names inside the layout. */
import { useEffect, useSyncExternalStore, type ReactNode } from 'react';
import { getSession, logout, onSessionChange } from './api';
import { Layout, SECTIONS } from './components/Layout';
import { Empty } from './components/States';
import { PageHeader } from './components/PageHeader';
import { live } from './live';
import { Audit } from './pages/Audit';
import { Cleanup } from './pages/Cleanup';
import { Dashboard } from './pages/Dashboard';
import { DatasetDetail } from './pages/DatasetDetail';
import { Datasets } from './pages/Datasets';
import { DeadLetters } from './pages/DeadLetters';
import { Login } from './pages/Login';
import { Notifications } from './pages/Notifications';
import { Polls } from './pages/Polls';
import { Requests } from './pages/Requests';
import { Services } from './pages/Services';
import { StoreDetail } from './pages/StoreDetail';
import { Stores } from './pages/Stores';
import { Validations } from './pages/Validations';
import { href, useRoute } from './router';

function page(route: string[]): ReactNode {
  const [section = '', id] = route;
  switch (section) {
    case '':
      return <Dashboard />;
    case 'requests':
      return <Requests />;
    case 'audit':
      return <Audit />;
    case 'datasets':
      return id ? <DatasetDetail key={id} id={id} /> : <Datasets />;
    case 'validations':
      return <Validations />;
    case 'stores':
      return id ? <StoreDetail key={id} id={id} /> : <Stores />;
    case 'dead-letters':
      return <DeadLetters />;
    case 'cleanup':
      return <Cleanup />;
    case 'services':
      return <Services />;
    case 'notifications':
      return <Notifications />;
    case 'polls':
      return <Polls />;
    default:
      return (
        <>
          <PageHeader title="Page not found" />
          <Empty>
            There is no page here. <a href={href()}>Go to the dashboard</a>.
          </Empty>
        </>
      );
  }
}

export function App() {
  const session = useSyncExternalStore(onSessionChange, getSession);
  const route = useRoute();
  const signedIn = session !== null;

  useEffect(() => {
    if (signedIn) live.start();
    else live.stop();
  }, [signedIn]);

  useEffect(() => {
    const section = SECTIONS.find((s) => s.path === (route[0] ?? ''));
    document.title = `${section?.label ?? 'Flotilla'} · Flotilla admin`;
  }, [route.join('/')]);

  if (!session) return <Login />;
  const section = route[0] ?? '';
  return (
    <Layout section={section} email={session.email} onLogout={() => void logout()}>
      {page(route)}
    </Layout>
  );
}
